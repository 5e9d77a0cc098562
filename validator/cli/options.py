"""Every option used by more than one command, defined once.

Commands decorate themselves with these factories instead of spelling ``click.option`` out, so
an option's name, environment variable, type and meaning cannot drift between commands. What a
factory lets a command choose is only what differs between commands: the help text (what the
option means *for that command*), whether it is required, and for ``--format`` the formats and
default, for ``--retries`` the default. The values stay plain (strings, ints, timedeltas); the
command hands them to the library (``validator.api.load_engine`` and the like).

``--cache-dir`` becomes a :class:`metadata.locations.Location` that remembers whether the
value came from the command line or from ``MSGAVAIL_CACHE_DIR``, so an error about the
directory names what the user actually set. Durations (``--ttl``, ``--max-metadata-age``)
share one parser (``metadata.duration``): a bare number is seconds in both.
"""

from __future__ import annotations

import typing as t

import click

if t.TYPE_CHECKING:
    import datetime as dt

    from metadata.locations import Location

F = t.TypeVar("F", bound=t.Callable[..., t.Any])


class Decorator(t.Protocol):
    """What the factories return: a decorator that keeps the command function's type."""

    def __call__(self, func: F, /) -> F: ...


ORG_ENV = "MSGAVAIL_ORG"
SNAPSHOT_ENV = "MSGAVAIL_SNAPSHOT"
CACHE_DIR_ENV = "MSGAVAIL_CACHE_DIR"
DATA_DIR_ENV = "MSGAVAIL_DATA_DIR"


def _from_env(ctx: click.Context, name: str) -> bool:
    return ctx.get_parameter_source(name) is click.core.ParameterSource.ENVIRONMENT


# -- the data source -------------------------------------------------------------------------
def org_option(*, required: bool = False, help: str | None = None) -> Decorator:
    """``--org URL`` (env ``MSGAVAIL_ORG``)."""
    text = help or "Use this org's cached harvest (run `msgavail harvest --org URL` first)."
    return click.option(
        "--org",
        envvar=ORG_ENV,
        required=required,
        metavar="URL",
        help=f"{text} Env: {ORG_ENV}.",
    )


def snapshot_option(*, help: str | None = None) -> Decorator:
    """``--snapshot FILE`` (env ``MSGAVAIL_SNAPSHOT``)."""
    text = help or "Use a snapshot file (takes precedence over --org)."
    return click.option(
        "--snapshot",
        envvar=SNAPSHOT_ENV,
        type=click.Path(dir_okay=False),
        metavar="FILE",
        help=f"{text} Env: {SNAPSHOT_ENV}.",
    )


def _cache_location(
    ctx: click.Context, param: click.Parameter, value: str | None
) -> Location | None:
    if value is None:
        return None
    from metadata.locations import Location

    origin = CACHE_DIR_ENV if _from_env(ctx, param.name or "") else "--cache-dir"
    return Location(value, origin=origin)


def cache_dir_option() -> Decorator:
    """``--cache-dir DIR`` (env ``MSGAVAIL_CACHE_DIR``), checked only when a command uses it."""
    # No click.Path(file_okay=False): a command that never opens the cache (check without
    # --org) must not fail on it; the store checks the directory, naming its origin.
    return click.option(
        "--cache-dir",
        envvar=CACHE_DIR_ENV,
        metavar="DIR",
        callback=_cache_location,
        help=f"Cache directory (default: the platform user cache). Env: {CACHE_DIR_ENV}.",
    )


def data_source_options(func: F) -> F:
    """--snapshot / --org / --cache-dir, in the contract's order of precedence."""
    func = cache_dir_option()(func)
    func = org_option()(func)
    func = snapshot_option()(func)
    return func


# -- output and behaviour --------------------------------------------------------------------
def format_option(
    choices: t.Sequence[str] = ("text", "json"),
    *,
    default: str | None = "text",
    help: str | None = None,
) -> Decorator:
    """``--format`` (the value reaches the command as ``fmt``)."""
    return click.option(
        "--format",
        "fmt",
        type=click.Choice(list(choices)),
        default=default,
        show_default=default is not None and help is None,
        help=help or "Output format.",
    )


def mode_option(func: F) -> F:
    """``--mode offline|online|mobile`` and ``--profile NAME`` (mode mobile's profile)."""
    func = profile_option(func)
    return click.option(
        "--mode",
        type=click.Choice(["offline", "online", "mobile"]),
        default=None,
        help="Where the operation must run (default: offline): offline = the classic offline "
        "client (SdkMessage/SdkMessageFilter availability), online = the server, mobile = Power "
        "Apps mobile offline, decided by the mobile offline profile (--profile).",
    )(func)


def offline_mode_option(func: F) -> F:
    """``--mode offline|mobile`` and ``--profile NAME``: which offline client a queue is for."""
    func = profile_option(func)
    return click.option(
        "--mode",
        type=click.Choice(["offline", "mobile"]),
        default="offline",
        show_default=True,
        help="Which offline client: offline = the classic offline client, mobile = Power Apps "
        "mobile offline (only what the mobile client could do offline is queued; --profile).",
    )(func)


def profile_option(func: F) -> F:
    """``--profile NAME``: the mobile offline profile (case-insensitive)."""
    return click.option(
        "--profile",
        metavar="NAME",
        default=None,
        help="Mobile offline profile for --mode mobile (case-insensitive; default: the only "
        "profile in the data; `msgavail profile list` shows them).",
    )(func)


def retries_option(*, default: int = 5) -> Decorator:
    """``--retries N``: retries per request after a 5xx or a transport error."""
    return click.option(
        "--retries",
        type=click.IntRange(0, 20),
        default=default,
        show_default=True,
        help="Retries per request after a 5xx or a transport error (with backoff); a refused "
        "connection is retried at most twice.",
    )


def duration_callback(
    *, allow_off: bool = False
) -> t.Callable[[click.Context, click.Parameter, t.Any], dt.timedelta | None]:
    """A click callback turning ``90`` (seconds), ``90s``, ``15m``, ``24h``, ``7d``, ``2w``
    (and ``off`` when ``allow_off``) into a ``datetime.timedelta`` (None for off / unset),
    with the one duration parser (metadata.duration)."""

    def convert(ctx: click.Context, param: click.Parameter, value: t.Any) -> dt.timedelta | None:
        if value is None:  # unset: no parser to import (every lint start-up passes here)
            return None
        from metadata.duration import parse_duration
        from metadata.errors import ConfigError

        try:
            return parse_duration(value, where=param.get_error_hint(ctx), allow_off=allow_off)
        except ConfigError as exc:
            raise click.BadParameter(exc.detail, ctx=ctx, param=param) from None

    return convert


DURATION_HELP = "a number of seconds, or with a unit: 90s, 30m, 24h, 7d, 2w"


# -- the executor's journals -----------------------------------------------------------------
def data_dir_option(func: F) -> F:
    return click.option(
        "--data-dir",
        envvar=DATA_DIR_ENV,
        type=click.Path(file_okay=False),
        help="Where journals live (default: the platform user data directory). "
        f"Env: {DATA_DIR_ENV}.",
    )(func)


def journal_option(func: F) -> F:
    return click.option(
        "--journal",
        "journal_name",
        metavar="NAME",
        help="Use this journal (as `msgavail queue` names it) instead of the org's; "
        "`local` holds what was queued against a snapshot without an org or the default.",
    )(func)
