"""``msgavail lint PATH...`` and ``msgavail rules``: the CI linter's command line."""

from __future__ import annotations

import json
import os
import sys
import typing as t

import click

from validator.cli import EXIT_OK
from validator.cli.options import (
    DURATION_HELP,
    data_source_options,
    duration_callback,
    format_option,
    mode_option,
)

if t.TYPE_CHECKING:
    import datetime as dt

    from metadata.locations import Location

# The reporters' registry names the formats without importing any reporter (validator/reporters).
FORMAT_NAMES = ("text", "json", "sarif", "github", "azure", "junit")


def _codes(value: str | None, where: str) -> tuple[str, ...] | None:
    if value is None:
        return None
    from validator.linter.config import parse_codes

    return parse_codes(value, where=where)


def repo_root(start: str) -> str:
    """GITHUB_WORKSPACE, else the nearest directory holding .git, else ``start``."""
    workspace = os.environ.get("GITHUB_WORKSPACE")
    if workspace and os.path.isdir(workspace):
        return workspace
    d = os.path.abspath(start)
    while True:
        if os.path.exists(os.path.join(d, ".git")):
            return d
        parent = os.path.dirname(d)
        if parent == d:
            return os.path.abspath(start)
        d = parent


@click.command()
@click.argument("paths", nargs=-1, type=click.Path())
@mode_option
@format_option(
    FORMAT_NAMES,
    default=None,
    help="Output format (default: text; github when GITHUB_ACTIONS=true, azure when "
    "TF_BUILD is set).",
)
@click.option("--select", metavar="CODES", help="Only these codes or prefixes (comma-separated).")
@click.option("--ignore", metavar="CODES", help="Skip these codes or prefixes (comma-separated).")
@click.option("--exit-zero", is_flag=True, help="Exit 0 even when there are findings.")
@click.option(
    "--fail-on",
    type=click.Choice(["error", "warning"]),
    default=None,
    help="Lowest severity that makes the exit status 1 (default: error).",
)
@click.option(
    "--max-metadata-age",
    default=None,
    callback=duration_callback(allow_off=True),
    metavar="AGE",
    help=f'MA007 threshold: {DURATION_HELP}, or "off" (default 30d).',
)
@click.option(
    "--output",
    "-o",
    type=click.Path(dir_okay=False, writable=True),
    help="Write the report to FILE instead of standard output.",
)
@click.option(
    "--show-source",
    is_flag=True,
    help="Text format: show each finding's source line, with a caret at the operation.",
)
@click.option(
    "--skip-non-plans",
    is_flag=True,
    help="Skip named files that do not look like plans (as directory searches always do); "
    "for pre-commit hooks that pass every changed JSON/YAML/XML file.",
)
@click.option(
    "--stdin-filename",
    metavar="PATH",
    help="With PATH `-`: the name of the plan read from standard input (its extension picks "
    "the reader; findings, settings and per-file ignores use it).",
)
@click.option(
    "--quiet", "-q", is_flag=True, help="Text format: only the findings, no summary or notices."
)
@click.option(
    "--statistics",
    is_flag=True,
    help="Instead of the findings, how many there are of each code (text or json format).",
)
@click.option(
    "--print-schema",
    is_flag=True,
    help="Print the plan JSON Schema (for editors' $schema) and exit.",
)
@data_source_options
def lint(
    paths: tuple[str, ...],
    mode: t.Literal["offline", "online", "mobile"] | None,
    profile: str | None,
    fmt: str | None,
    select: str | None,
    ignore: str | None,
    exit_zero: bool,
    fail_on: t.Literal["error", "warning"] | None,
    max_metadata_age: dt.timedelta | None,
    output: str | None,
    show_source: bool,
    skip_non_plans: bool,
    stdin_filename: str | None,
    quiet: bool,
    statistics: bool,
    print_schema: bool,
    snapshot: str | None,
    org: str | None,
    cache_dir: Location | None,
) -> int:
    """Lint planned operation batches: native JSON/YAML plans, OData $batch bodies (.batch,
    .http) and SOAP ExecuteMultiple requests (.xml). Directories (default: the current one)
    are searched for those extensions, keeping files that look like plans; `-` reads one plan
    from standard input. Settings come from [tool.msgavail] in pyproject.toml; options override
    them.

    Exit status: 0 no findings at --fail-on level, 1 findings, 2 unreadable input or error.
    """
    if print_schema:
        from importlib import resources

        text = resources.files("validator").joinpath("schemas/plan.schema.json").read_text()
        click.echo(text, nl=False)
        return EXIT_OK
    from metadata import __version__
    from validator.api import load_engine
    from validator.linter import Linter, LintResult, load_config
    from validator.reporters import REPORTERS, ReportContext, default_format

    if "-" in paths and len(paths) > 1:
        raise click.UsageError("`-` (standard input) cannot be combined with other paths")
    if stdin_filename is not None and paths != ("-",):
        raise click.UsageError("--stdin-filename names the plan read from `-`; pass `-`")
    fmt = fmt or default_format()
    if statistics and fmt not in ("text", "json"):
        raise click.UsageError("--statistics writes text or json; drop --format " + fmt)
    stdin = paths == ("-",)
    targets = [stdin_filename or "."] if stdin else (list(paths) or ["."])
    start = os.path.commonpath([os.path.abspath(p) for p in targets])
    config = load_config(start)
    config = config.replace(
        mode=mode,
        profile=profile,
        select=_codes(select, "--select"),
        ignore=_codes(ignore, "--ignore"),
        fail_on=fail_on,
    )
    source = click.get_current_context().get_parameter_source("max_metadata_age")
    if source is click.core.ParameterSource.COMMANDLINE:  # "off" is None: not "unset"
        config = config._replace(max_metadata_age=max_metadata_age)
    if snapshot is None and org is None:  # options and env first, then the settings
        snapshot, org = config.snapshot, config.org
    engine = load_engine(snapshot=snapshot, org=org, cache_dir=cache_dir)
    linter = Linter(engine, config)
    if stdin:
        name = stdin_filename or "<stdin>"
        data = _read_stdin()
        from validator.readers import looks_like_plan_data

        if skip_non_plans and stdin_filename and not looks_like_plan_data(data, name):
            result = LintResult((), 0, 0, (), engine.source.describe())
        else:
            result = linter.lint_input(data, name)
    else:
        result = linter.lint(targets, skip_non_plans=skip_non_plans)
    if result.files == 0 and not result.failures and not quiet:
        from validator.readers import KNOWN_EXTENSIONS

        exts = ", ".join(f"*{e}" for e in KNOWN_EXTENSIONS)
        click.echo(
            f"msgavail: warning: no plan found in {', '.join(targets)} (searched for {exts} "
            "files that look like plans)",
            err=True,
        )
    ctx = ReportContext(
        root=repo_root(os.getcwd()), mode=config.mode, version=__version__,
        show_source=show_source, quiet=quiet,
        color=not output and fmt == "text" and should_color(sys.stdout),
    )  # fmt: skip
    report: t.Callable[[t.Any, ReportContext, t.TextIO], None] = REPORTERS[fmt].write
    if statistics:
        from validator.reporters import statistics as stats

        report = stats.write_json if fmt == "json" else stats.write
    if output:
        _write_file(output, lambda fh: report(result, ctx, fh))
    else:
        report(result, ctx, sys.stdout)
        sys.stdout.flush()
    if result.failures:  # the report carries them too (read_errors, SARIF notifications)
        from metadata.errors import ErrorsAfterOutput

        raise ErrorsAfterOutput(result.failures)
    status = result.exit_status(config.fail_on)
    if exit_zero and status == 1:
        return EXIT_OK
    return status


def _read_stdin() -> bytes:
    buffer = getattr(sys.stdin, "buffer", None)
    if buffer is not None:
        data: bytes = buffer.read()
        return data
    return sys.stdin.read().encode("utf-8")


def should_color(stream: t.TextIO, environ: t.Mapping[str, str] | None = None) -> bool:
    """Colour only on a terminal, and never with NO_COLOR set (https://no-color.org)."""
    env = os.environ if environ is None else environ
    if env.get("NO_COLOR"):
        return False
    try:
        return stream.isatty()
    except (AttributeError, ValueError):
        return False


def _write_file(path: str, write: t.Callable[[t.TextIO], None]) -> None:
    """Write the report beside ``path`` and move it into place: never a half-written report.

    Only a regular file (or a new one) is replaced that way; anything else (``/dev/null``, a
    FIFO, ``/dev/stdout``) is written in place, never renamed over.
    """
    import stat
    import tempfile

    from metadata.errors import InputError

    try:
        regular = stat.S_ISREG(os.stat(path).st_mode)
    except FileNotFoundError:
        regular = True
    except OSError as exc:
        raise InputError(f"cannot write: {exc.strerror or exc}", path=path) from None
    if not regular:
        try:
            with open(path, "w", encoding="utf-8") as fh:
                write(fh)
        except OSError as exc:
            raise InputError(f"cannot write: {exc.strerror or exc}", path=path) from None
        return
    directory = os.path.dirname(os.path.abspath(path))
    tmp: str | None = None
    try:
        fd, tmp = tempfile.mkstemp(prefix=".msgavail-", suffix=".tmp", dir=directory)
        with os.fdopen(fd, "w", encoding="utf-8") as fh:
            write(fh)
        os.replace(tmp, path)
    except OSError as exc:
        raise InputError(f"cannot write: {exc.strerror or exc}", path=path) from None
    finally:
        if tmp is not None and os.path.exists(tmp):
            os.unlink(tmp)


@click.command()
@click.argument("codes", nargs=-1)
@format_option()
def rules(codes: tuple[str, ...], fmt: t.Literal["text", "json"]) -> int:
    """List the lint rules, or explain the CODES given (e.g. `msgavail rules MA005`)."""
    from validator.rules import RULES

    chosen = list(RULES.values())
    if codes:
        wanted = [c.upper() for c in codes]
        unknown = [c for c in wanted if c not in RULES]
        if unknown:
            from metadata.errors import ConfigError

            raise ConfigError(f"unknown rule {', '.join(unknown)} (known: {', '.join(RULES)})")
        chosen = [RULES[c] for c in wanted]
    if fmt == "json":
        click.echo(json.dumps({"rules": [r.to_json() for r in chosen]}, indent=2))
        return EXIT_OK
    if codes:
        for r in chosen:
            click.echo(f"{r.id} {r.name} ({r.severity})\n")
            click.echo(f"  {r.description}\n")
            click.echo(f"  Example: {r.example}\n")
        return EXIT_OK
    width = max(len(r.name) for r in chosen)
    for r in chosen:
        click.echo(f"{r.id}  {r.name:<{width}}  {r.severity:<7}  {r.summary}")
    return EXIT_OK
