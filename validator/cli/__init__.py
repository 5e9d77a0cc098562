"""The ``msgavail`` command line: a lazy click group and the one error boundary.

Subcommands live one per module in this package and are imported only when invoked, so
``msgavail check`` never pays for the linter, the harvester or the executor. Every command
function returns its exit status (0 success, 1 findings / not available, 2 error); only
``main`` turns exceptions into messages and exits.
"""

from __future__ import annotations

import os
import sys
import typing as t

import click

from metadata import __version__
from metadata.errors import ErrorsAfterOutput, MsgavailError

EXIT_OK = 0
EXIT_FINDINGS = 1
EXIT_ERROR = 2

# name -> (module:attribute, one-line help). Help lives here so `msgavail --help` does not
# import every command.
COMMANDS: dict[str, tuple[str, str]] = {
    "check": ("validator.cli.check:check", "Does MESSAGE on TABLE work offline (or online)?"),
    "harvest": ("validator.cli.harvest:harvest", "Download an org's availability metadata."),
    "snapshot": ("validator.cli.snapshot:snapshot", "Export, show and compare snapshot files."),
    "lint": ("validator.cli.lint:lint", "Lint planned operation batches (CI)."),
    "rules": ("validator.cli.lint:rules", "List the lint rules."),
    "profile": (
        "validator.cli.profile:profile",
        "List mobile offline profiles; show a profile's tables.",
    ),
    "run": ("validator.cli.run_plan:run", "Queue a plan's operations while offline."),
    "get": ("validator.cli.get:get", "Read records from the offline store."),
    "sync": ("validator.cli.sync:sync", "Play queued operations back to the org."),
    "queue": ("validator.cli.queue:queue", "Inspect, retry or drop queued operations."),
    "serve": ("validator.cli.serve:serve", "Serve availability answers over HTTP (JSON API)."),
}


class _Escaped(Exception):
    """Carries an interrupt or a broken pipe past ``click.main``, which would otherwise turn
    the first into a generic Abort and the second into ``sys.exit(1)``, so the boundary in
    ``run`` can report each as what it is."""

    def __init__(self, original: BaseException) -> None:
        super().__init__(type(original).__name__)
        self.original = original


class LazyGroup(click.Group):
    """A group whose subcommands are imported on first use."""

    def invoke(self, ctx: click.Context) -> t.Any:
        try:
            return super().invoke(ctx)
        except (KeyboardInterrupt, BrokenPipeError) as exc:
            raise _Escaped(exc) from exc

    def list_commands(self, ctx: click.Context) -> list[str]:
        return sorted({*COMMANDS, *self.commands})

    def get_command(self, ctx: click.Context, cmd_name: str) -> click.Command | None:
        if cmd_name in self.commands:
            return self.commands[cmd_name]
        entry = COMMANDS.get(cmd_name)
        if entry is None:
            return None
        import importlib

        module_name, attr = entry[0].split(":")
        command: click.Command = getattr(importlib.import_module(module_name), attr)
        return command

    def format_commands(self, ctx: click.Context, formatter: click.HelpFormatter) -> None:
        rows = [(name, COMMANDS[name][1]) for name in sorted(COMMANDS)]
        with formatter.section("Commands"):
            formatter.write_dl(rows)


@click.group(cls=LazyGroup, context_settings={"help_option_names": ["-h", "--help"]})
# An explicit message: click's default is translated through gettext, which searches the
# filesystem for catalogues (click's other decorators still do it once each).
@click.version_option(__version__, prog_name="msgavail", message="%(prog)s, version %(version)s")
def cli() -> None:
    """msgavail: where Dataverse messages run (server, offline client, both), checked before
    operations run.

    Data source, in this order: --snapshot FILE, --org URL (its cached harvest), otherwise the
    embedded published table for Dynamics 365 9.0. Exit status: 0 success, 1 not available or
    findings, 2 error.
    """


def _fail(message: str) -> int:
    click.echo(f"msgavail: error: {_scrub(message)}", err=True)
    return EXIT_ERROR


def _interrupted() -> int:
    click.echo("msgavail: interrupted", err=True)
    return 130  # 128 + SIGINT, as a shell reports a process that Ctrl-C stopped


def _scrub(message: str) -> str:
    """Belt and braces: a message never shows the bearer token, even one quoted by a
    library error nobody foresaw (metadata.auth validates tokens so this should not fire)."""
    from metadata.auth import TOKEN_ENV

    token = os.environ.get(TOKEN_ENV, "").strip()
    if len(token) >= 8:
        message = message.replace(token, f"<{TOKEN_ENV}>")
    return message


def usage_message(exc: click.ClickException) -> str:
    """A click error as the tool's one line: ``msgavail check: missing argument 'MESSAGE'
    (see `msgavail check --help`)``, without click's multi-line usage block."""
    text = " ".join(exc.format_message().split()).replace(". Did you mean", "; did you mean")
    if text[:1].isupper() and not text[1:2].isupper():
        text = text[0].lower() + text[1:]
    text = text.rstrip(".")
    ctx = getattr(exc, "ctx", None)
    if isinstance(exc, click.UsageError) and ctx is not None:
        path = ctx.command_path
        hint = f"{path} --help" if ctx.command.get_help_option(ctx) else path
        command = path.partition(" ")[2]  # without the program name the line starts with
        return f"{command + ': ' if command else ''}{text} (see `{hint}`)"
    return text


def main(argv: t.Sequence[str] | None = None) -> t.NoReturn:
    """Console entry point: run the command and exit with its status; the one error boundary."""
    sys.exit(run(argv))


def run(argv: t.Sequence[str] | None = None) -> int:
    """Run a command line and return its exit status. Every error a command raises is
    printed here, as one line on stderr; nothing below prints errors or exits."""
    try:
        rv = cli.main(args=list(argv) if argv is not None else None, prog_name="msgavail",
                      standalone_mode=False)  # fmt: skip
    except click.exceptions.Exit as exc:  # --help, --version
        return int(exc.exit_code)
    except click.exceptions.Abort as exc:  # end of input (or Ctrl-C) at a prompt
        if isinstance(exc.__cause__, KeyboardInterrupt):
            return _interrupted()
        click.echo("msgavail: aborted", err=True)
        return EXIT_ERROR
    except click.exceptions.NoArgsIsHelpError as exc:  # `msgavail snapshot`: show the help
        click.echo(exc.format_message(), err=True)
        command = exc.ctx.command_path.partition(" ")[2] if exc.ctx else ""
        return _fail(f"{command + ': ' if command else ''}missing command")
    except click.ClickException as exc:  # usage errors: missing option, bad choice...
        return _fail(usage_message(exc))
    except ErrorsAfterOutput as exc:  # e.g. lint's unreadable files, after the report
        for reason in exc.reasons:
            _fail(reason)
        return EXIT_ERROR
    except MsgavailError as exc:
        return _fail(str(exc))
    except (_Escaped, KeyboardInterrupt, BrokenPipeError) as exc:
        original = exc.original if isinstance(exc, _Escaped) else exc
        if isinstance(original, KeyboardInterrupt):
            return _interrupted()
        # The reader (e.g. `| head`) went away: nothing more to say, and nothing to flush
        # at exit either (Python would print "Exception ignored ... BrokenPipeError").
        _silence_stdout()
        return EXIT_OK
    except Exception as exc:
        if os.environ.get("MSGAVAIL_DEBUG"):
            raise
        return _fail(
            f"internal error: {type(exc).__name__}: {exc} "
            "(this is a bug; run with MSGAVAIL_DEBUG=1 for the traceback and please report it)"
        )
    return rv if isinstance(rv, int) else EXIT_OK


def _silence_stdout() -> None:
    try:
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
    except (OSError, ValueError):
        pass
