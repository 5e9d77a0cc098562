"""Options shared by several commands, and turning them into an Engine."""

from __future__ import annotations

import typing as t

import click

F = t.TypeVar("F", bound=t.Callable[..., t.Any])


def data_source_options(func: F) -> F:
    """--snapshot / --org / --cache-dir, in the contract's order of precedence."""
    func = click.option(
        "--cache-dir",
        envvar="MSGAVAIL_CACHE_DIR",
        type=click.Path(file_okay=False),
        help="Cache directory (default: the platform user cache). Env: MSGAVAIL_CACHE_DIR.",
    )(func)
    func = click.option(
        "--org",
        envvar="MSGAVAIL_ORG",
        metavar="URL",
        help="Use this org's cached harvest (run `msgavail harvest --org URL` first). "
        "Env: MSGAVAIL_ORG.",
    )(func)
    func = click.option(
        "--snapshot",
        envvar="MSGAVAIL_SNAPSHOT",
        type=click.Path(dir_okay=False),
        metavar="FILE",
        help="Use a snapshot file (takes precedence over --org). Env: MSGAVAIL_SNAPSHOT.",
    )(func)
    return func


def mode_option(func: F) -> F:
    return click.option(
        "--mode",
        type=click.Choice(["offline", "online"]),
        default=None,
        help="Where the operation must run (default: offline).",
    )(func)
