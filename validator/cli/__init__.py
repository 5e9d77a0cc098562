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
from metadata.errors import MsgavailError

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
    "run": ("validator.cli.executor:run", "Queue a plan's operations while offline."),
    "get": ("validator.cli.executor:get", "Read records from the offline store."),
    "sync": ("validator.cli.executor:sync", "Play queued operations back to the org."),
    "queue": ("validator.cli.executor:queue", "Inspect, retry or drop queued operations."),
    "serve": ("validator.cli.serve:serve", "Serve availability answers over HTTP (JSON API)."),
}


class LazyGroup(click.Group):
    """A group whose subcommands are imported on first use."""

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
@click.version_option(__version__, prog_name="msgavail")
def cli() -> None:
    """msgavail: where Dataverse messages run (server, offline client, both), checked before
    operations run.

    Data source, in this order: --snapshot FILE, --org URL (its cached harvest), otherwise the
    embedded published table for Dynamics 365 9.0. Exit status: 0 success, 1 not available or
    findings, 2 error.
    """


def _fail(message: str) -> int:
    click.echo(f"msgavail: error: {message}", err=True)
    return EXIT_ERROR


def main(argv: t.Sequence[str] | None = None) -> t.NoReturn:
    """Console entry point: run the command and exit with its status; the one error boundary."""
    sys.exit(run(argv))


def run(argv: t.Sequence[str] | None = None) -> int:
    try:
        rv = cli.main(args=list(argv) if argv is not None else None, prog_name="msgavail",
                      standalone_mode=False)  # fmt: skip
    except click.exceptions.Exit as exc:  # --help, --version
        return int(exc.exit_code)
    except click.exceptions.Abort:
        click.echo("msgavail: aborted", err=True)
        return EXIT_ERROR
    except click.ClickException as exc:
        exc.show()
        return EXIT_ERROR
    except MsgavailError as exc:
        return _fail(str(exc))
    except KeyboardInterrupt:
        click.echo("msgavail: interrupted", err=True)
        return 130
    except BrokenPipeError:
        # The reader (e.g. `| head`) went away; nothing more to say.
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
