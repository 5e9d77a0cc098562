"""The rules engine: does message M on table P (and secondary S) run offline, online, both?

The verdict follows docs/DESIGN.md §1: resolve names; choose the filter row for (M, P, S), else
(M, P, none) when no S is given, else M's table-less row; offline needs Client or All in both
``SdkMessage.Availability`` and ``SdkMessageFilter.Availability``, online needs Server or All.
Mode ``mobile`` (Power Apps mobile offline) keeps step 1 (the pair must exist) and is then
decided by the user's mobile offline profile, not by those columns: see validator/mobile.py.
"""

# No ``from __future__ import annotations``: typing.NamedTuple compiles each string annotation
# into a ForwardRef (Verdict's 19 fields, on every start-up); evaluated ones cost nothing extra.
import typing as t

from metadata.errors import ConfigError, DataUnavailableError, UnknownProfileError
from metadata.model import (
    MODES,
    Availability,
    ClassicMode,
    Message,
    MessageFilter,
    Mode,
    OfflineProfile,
    Snapshot,
    Source,
)
from validator.names import NameResolver

Basis = t.Literal[
    "filter",  # the (message, table[, secondary]) row
    "table-less filter",  # the message's row with no primary table: applies to every table
    "message",  # no table given: the message-level answer
    "custom-table rule",  # the published rule for custom tables by ownership
    "no filter",  # no row at all: the pair is unsupported
]

_MSG_COL = "SdkMessage.Availability"
_FLT_COL = "SdkMessageFilter.Availability"
_OWNERSHIP_WORDS = {
    "user": "UserOwned",
    "userowned": "UserOwned",
    "organization": "OrganizationOwned",
    "org": "OrganizationOwned",
    "organizationowned": "OrganizationOwned",
}


class Verdict(t.NamedTuple):
    """The answer for one (message, table, secondary, mode); fields match the JSON contract."""

    message: str
    table: str | None
    secondary_table: str | None
    mode: Mode
    available: bool
    offline: bool
    online: bool
    supported: bool
    message_availability: str | None
    filter_availability: str | None
    reason: str
    source: Source
    basis: Basis
    exceptions: tuple[str, ...] = ()
    """Message-level answers: the tables whose filter excludes the mode."""
    determinate: bool = True
    """False when a custom table's unknown ownership decides the answer (or, in mobile mode,
    when the published docs leave the case open)."""
    mobile: bool | None = None
    """Power Apps mobile offline, for ``profile``; None when there is no profile to answer for."""
    profile: str | None = None
    """The mobile offline profile the ``mobile`` answer is for."""
    mobile_basis: str | None = None
    """Which step of the mobile rule decided (validator.mobile.MobileBasis)."""
    profile_tables: tuple[str, ...] = ()
    """Mobile message-level answers: the profile's tables where the message runs offline."""

    def to_json(self) -> dict[str, t.Any]:
        d = self._asdict()
        d["source"] = self.source.to_json()
        d["exceptions"] = list(self.exceptions)
        d["profile_tables"] = list(self.profile_tables)
        return d


def normalize_ownership(value: str | None) -> str | None:
    if value is None:
        return None
    found = _OWNERSHIP_WORDS.get(value.strip().lower().replace("-", "").replace("_", ""))
    if found is None:
        raise ConfigError(f"unknown ownership {value!r}: expected user or organization")
    return found


def _label(av: Availability | None) -> str | None:
    return None if av is None else av.label


def _decisions() -> dict[
    tuple[Availability, Availability, ClassicMode], tuple[bool, bool, bool, str, str, str]
]:
    """(message availability, filter availability, mode) -> (available, offline, online, the
    reason after its subject, the two labels): nine pairs of columns and two modes, so the
    first answer to a question joins a few strings instead of deciding and formatting."""
    table = {}
    for msg_av in Availability:
        for flt_av in Availability:
            offline = msg_av.allows("offline") and flt_av.allows("offline")
            online = msg_av.allows("online") and flt_av.allows("online")
            for mode in ("offline", "online"):
                m, f = msg_av.label, flt_av.label
                available = offline if mode == "offline" else online
                if available:
                    tail = f" is available {mode}: {_MSG_COL} = {m} and {_FLT_COL} = {f}"
                elif not msg_av.allows(mode):
                    tail = f" is not available {mode}: {_MSG_COL} = {m}"
                else:
                    tail = f" is not available {mode}: {_FLT_COL} = {f} (the message itself is {m})"
                table[msg_av, flt_av, mode] = (available, offline, online, tail, m, f)
    return table  # type: ignore[return-value]


_DECISIONS = _decisions()
_TABLELESS_NOTE = " (the message is not bound to a table, so its table-less row applies)"
_new_verdict = tuple.__new__  # positional construction: a 19-field keyword call costs ~1 us


# Distinct questions kept answered per engine. Real inputs ask a few hundred (the published
# table has 1,315 rows); the bound only stops a stream of made-up custom-table names (which
# are answered, not refused) from growing the memo without end.
_MAX_ANSWERS = 65_536


def _names(profiles: t.Sequence[OfflineProfile]) -> str:
    return ", ".join(repr(p.name) for p in sorted(profiles, key=lambda p: p.name.lower()))


class Engine:
    """Answers availability questions from one Snapshot. Build once, call ``check`` often."""

    def __init__(self, snapshot: Snapshot) -> None:
        self.snapshot = snapshot
        self.names = NameResolver(snapshot)
        self._where = f" [{snapshot.source.describe()}]"  # every reason ends with its source
        # The snapshot is immutable, so a question asked twice has the same Verdict (itself
        # immutable): answer it once. Resolving names and writing the reason cost ~3.5 us a
        # call; a repeated question costs a tuple and a dict lookup. Errors are not kept.
        self._answers: dict[tuple[t.Any, ...], Verdict] = {}
        # Lower-cased name -> Message: the first answer's one lookup for the message.
        # Spelling (canonical or lower-cased) -> (Message, its key): the first answer's one
        # lookup for the message; other spellings go through the resolver.
        self._messages = {m.name.lower(): (m, m.name.lower()) for m in snapshot.messages}
        self._messages.update({m.name: (m, m.name.lower()) for m in snapshot.messages})
        self._tables = self.names.tables
        self._rows = snapshot.filters_by_key
        self._source = snapshot.source
        # No profile data: no answer has a mobile part, so offline/online need only the columns.
        self._classic_only = not snapshot.has_profile_data

    @property
    def source(self) -> Source:
        return self.snapshot.source

    def check(
        self,
        message: str,
        table: str | None = None,
        secondary: str | None = None,
        mode: Mode = "offline",
        *,
        ownership: str | None = None,
        profile: str | None = None,
    ) -> Verdict:
        """Decide one question. Raises UnknownNameError for names not in the data.

        ``profile`` names the mobile offline profile (case-insensitive) for mode ``mobile``
        and for the ``mobile`` field of the other modes; with exactly one profile in the data
        it is the default.
        """
        key = (message, table, secondary, mode, ownership, profile)  # every argument
        found = self._answers.get(key)
        if found is None:
            if profile is None and self._classic_only and (mode == "offline" or mode == "online"):
                found = self._classic(message, table, secondary, mode, ownership)
            else:
                found = self._answer(message, table, secondary, mode, ownership, profile)
            if len(self._answers) >= _MAX_ANSWERS:
                self._answers.clear()
            self._answers[key] = found
        return found

    def _answer(
        self,
        message: str,
        table: str | None,
        secondary: str | None,
        mode: Mode,
        ownership: str | None,
        profile: str | None,
    ) -> Verdict:
        """The verdict for one question, decided from the data (``check`` keeps the answers)."""
        if profile is None and self._classic_only and (mode == "offline" or mode == "online"):
            return self._classic(message, table, secondary, mode, ownership)
        if mode not in MODES:
            raise ConfigError(f"unknown mode {mode!r}: expected offline, online or mobile")
        chosen = self.resolve_profile(profile, required=mode == "mobile")
        classic: ClassicMode = "offline" if mode == "mobile" else mode
        verdict = self._classic(message, table, secondary, classic, ownership)
        if chosen is None:
            return verdict
        return self._with_mobile(verdict, mode, chosen)

    def resolve_profile(self, name: str | None, *, required: bool = False) -> OfflineProfile | None:
        """The profile ``name`` names (case-insensitive), or the only one when none is named.

        Raises UnknownProfileError (with suggestions) for an unknown name, and, when
        ``required``, DataUnavailableError when the data has no profiles and ConfigError when
        there are several and none is named. Otherwise returns None in those cases.
        """
        snap = self.snapshot
        if not snap.has_profile_data:
            if name is not None or required:
                raise DataUnavailableError(
                    f"{snap.source.describe()} carries no mobile offline profiles: harvest the "
                    "org (`msgavail harvest --org URL`) or use a snapshot exported from such a "
                    "harvest"
                )
            return None
        profiles = snap.profiles
        if name is not None:
            found = snap.profile(name)
            if found is None:
                import difflib

                want = name.strip().lower()
                near = [
                    p.name
                    for p in profiles
                    if want in p.name.lower()
                    or difflib.get_close_matches(want, [p.name.lower()], cutoff=0.6)
                    or any(
                        difflib.get_close_matches(w, p.name.lower().split(), cutoff=0.75)
                        for w in want.split()
                    )
                ]
                raise UnknownProfileError(
                    name,
                    near[:3],
                    detail=f"(profiles: {_names(profiles)})" if profiles else "(no profiles)",
                )
            return found
        if len(profiles) == 1:
            return profiles[0]
        if not required:
            return None
        if not profiles:
            raise DataUnavailableError(
                f"{snap.source.describe()} has no mobile offline profiles, so nothing is "
                "available in mobile offline"
            )
        raise ConfigError(
            f"{len(profiles)} mobile offline profiles in the data; choose one with --profile: "
            + _names(profiles)
        )

    def _with_mobile(self, v: Verdict, mode: Mode, profile: OfflineProfile) -> Verdict:
        from validator import mobile as mob

        snap = self.snapshot
        tables: tuple[str, ...] = ()
        exceptions = v.exceptions
        determinate = v.determinate
        ownership_rule = v.basis == "custom-table rule" and v.filter_availability is not None
        if not v.supported and v.basis != "message" and not ownership_rule:
            decision = mob.MobileDecision(False, "unsupported-pair", v.reason[: -len(self._where)])
        elif v.table is None:
            supported = {
                f.primary for f in snap.filters_for(v.message) if f.primary and not f.secondary
            }
            if snap.filter(v.message, None, None) is not None:
                supported = set(profile.tables)
            decision, tables, excluded = mob.profile_decision(snap, v.message, profile, supported)
            if mode == "mobile":
                exceptions = excluded
        else:
            decision = mob.message_decision(v.message) or mob.table_decision(
                snap, v.message, v.table, profile, v.filter_availability
            )
        if mode != "mobile":
            return v._replace(mobile=decision.available, profile=profile.name,
                              mobile_basis=decision.basis, profile_tables=tables)  # fmt: skip
        if decision.basis.endswith("undetermined"):
            determinate = False
        return v._replace(
            mode="mobile",
            available=decision.available,
            reason=decision.reason + self._where,
            exceptions=exceptions,
            determinate=determinate,
            mobile=decision.available,
            profile=profile.name,
            mobile_basis=decision.basis,
            profile_tables=tables,
        )

    def _classic(
        self,
        message: str,
        table: str | None,
        secondary: str | None,
        mode: ClassicMode,
        ownership: str | None,
    ) -> Verdict:
        known = self._messages.get(message)
        if known is None:
            msg = self._message(message)  # other spellings; raises, with suggestions
            key = msg.name.lower()
        else:
            msg, key = known
        if table is None and secondary is None:
            return self._message_level(msg, mode)
        if table is None:
            raise ConfigError("a secondary table needs a primary table")
        # The common case first, in as few calls as possible: names the data knows, a row.
        # A name as the data spells it (lower case) needs no normalising.
        found = self._tables.get(table) or self.names.lookup_table(table)
        primary, custom = (found, False) if found is not None else self._table(table)
        second = self.names.table(secondary) if secondary is not None else None
        row = self._rows.get((key, primary, second or ""))
        if row is not None:  # _decide, inlined for the common case: one string, one tuple
            available, offline, online, tail, msg_label, flt_label = _DECISIONS[
                msg.availability, row.availability, mode
            ]
            reason = f"{msg.name} on {primary}{tail}{self._where}" if second is None else (
                f"{msg.name} on {primary} with {second}{tail}{self._where}")  # fmt: skip
            verdict: Verdict = _new_verdict(Verdict, (
                msg.name, primary, second, mode, available, offline, online, True, msg_label,
                flt_label, reason, self._source, "filter", (), True, None, None, None, (),
            ))  # fmt: skip
            return verdict
        tableless = self._rows.get((key, "", ""))
        if tableless is not None:
            return self._from_row(msg, tableless, primary, second, mode, "table-less filter")
        if custom or self._is_custom_without_filters(primary):
            return self._custom(msg, primary, second, mode, normalize_ownership(ownership))
        what = f"{primary}" + (f" with secondary table {second}" if second else "")
        return self._verdict(
            msg, primary, second, mode, None, "no filter", offline=False, online=False,
            supported=False,
            reason=f"{msg.name} has no SdkMessageFilter row for {what}: "
            "the pair is not supported online or offline",
        )  # fmt: skip

    # -- pieces ------------------------------------------------------------------------------
    def _message(self, name: str) -> Message:
        canonical = self.names.message(name)
        found = self.snapshot.message(canonical)
        assert found is not None  # the resolver only returns names the snapshot holds
        return found

    def _table(self, name: str) -> tuple[str, bool]:
        """(logical name, presumed custom). Custom-looking unknown names pass in the default."""
        found = self.names.lookup_table(name)
        if found is not None:
            return found, False
        if self.names.is_presumed_custom(name):
            return name.strip().lower(), True
        return self.names.table(name), False  # raises with suggestions

    def _is_custom_without_filters(self, logical: str) -> bool:
        tb = self.snapshot.table(logical)
        return (
            tb is not None
            and tb.is_custom
            and bool(self.snapshot.custom_rules)
            and not self.snapshot.has_filters_for_table(logical)
        )

    def _verdict(
        self,
        msg: Message,
        table: str | None,
        secondary: str | None,
        mode: ClassicMode,
        filter_av: Availability | None,
        basis: Basis,
        *,
        offline: bool,
        online: bool,
        supported: bool,
        reason: str,
        exceptions: tuple[str, ...] = (),
        determinate: bool = True,
        message_av: Availability | None = None,
    ) -> Verdict:
        return Verdict(
            message=msg.name,
            table=table,
            secondary_table=secondary,
            mode=mode,
            available=offline if mode == "offline" else online,
            offline=offline,
            online=online,
            supported=supported,
            message_availability=_label(message_av or msg.availability),
            filter_availability=_label(filter_av),
            reason=reason + self._where,
            source=self.snapshot.source,
            basis=basis,
            exceptions=exceptions,
            determinate=determinate,
        )

    def _from_row(
        self,
        msg: Message,
        row: MessageFilter,
        table: str | None,
        secondary: str | None,
        mode: ClassicMode,
        basis: Basis,
    ) -> Verdict:
        return self._decide(msg, msg.availability, row.availability, table, secondary, mode, basis)

    def _decide(
        self,
        msg: Message,
        msg_av: Availability,
        flt_av: Availability,
        table: str | None,
        secondary: str | None,
        mode: ClassicMode,
        basis: Basis,
        note: str = "",
    ) -> Verdict:
        available, offline, online, tail, msg_label, flt_label = _DECISIONS[msg_av, flt_av, mode]
        subject = msg.name
        if table:
            subject += f" on {table}"
            if basis == "table-less filter":
                tail += _TABLELESS_NOTE
        if secondary:
            subject += f" with {secondary}"
        verdict: Verdict = _new_verdict(Verdict, (
            msg.name, table, secondary, mode, available, offline, online, True, msg_label,
            flt_label, subject + tail + note + self._where, self._source, basis, (), True, None,
            None, None, (),
        ))  # fmt: skip
        return verdict

    def _message_level(self, msg: Message, mode: ClassicMode) -> Verdict:
        rows = self.snapshot.filters_for(msg.name)
        tableless = self.snapshot.filter(msg.name, None, None)
        if tableless is not None and len(rows) == 1:
            return self._from_row(msg, tableless, None, None, mode, "table-less filter")
        exceptions = tuple(
            sorted({f.primary for f in rows if f.primary and not f.availability.allows(mode)})
        )
        offline = msg.availability.allows("offline")
        online = msg.availability.allows("online")
        available = offline if mode == "offline" else online
        head = f"{msg.name} is {'' if available else 'not '}available {mode}: "
        head += f"{_MSG_COL} = {msg.availability.label}"
        if available and exceptions:
            shown = ", ".join(exceptions[:8])
            more = f" and {len(exceptions) - 8} more" if len(exceptions) > 8 else ""
            head += (
                f", except for {len(exceptions)} tables where {_FLT_COL} excludes it: {shown}{more}"
            )
        return self._verdict(
            msg, None, None, mode, None, "message", offline=offline, online=online,
            supported=bool(rows), reason=head, exceptions=exceptions if available else (),
        )  # fmt: skip

    def _custom(
        self,
        msg: Message,
        table: str,
        secondary: str | None,
        mode: ClassicMode,
        ownership: str | None,
    ) -> Verdict:
        rule = self.snapshot.custom_rule(msg.name)
        tb = self.snapshot.table(table)
        if ownership is None and tb is not None:
            ownership = tb.ownership
        if rule is None:
            return self._verdict(
                msg, table, secondary, mode, None, "custom-table rule", offline=False,
                online=False, supported=False,
                reason=f"{msg.name} is not supported for custom tables such as {table}",
            )  # fmt: skip
        scope = " and ".join(
            {"UserOwned": "user-owned", "OrganizationOwned": "organization-owned"}[o]
            for o in rule.ownerships
        )
        note = f" (custom table: the published rule for {scope} custom tables applies)"
        if ownership is None and len(rule.ownerships) < 2:
            # Supported for one ownership, unsupported for the other: answer only what both
            # agree on, and say the rest depends on ownership.
            allowed = rule.message_availability.allows(mode)
            allowed = allowed and rule.filter_availability.allows(mode)
            text = (
                f"{msg.name} on custom table {table} depends on its ownership: only {scope} "
                f"custom tables support it ({_MSG_COL} = {rule.message_availability.label}, "
                f"{_FLT_COL} = {rule.filter_availability.label}); "
                "pass the table's ownership to decide"
            )
            return self._verdict(
                msg, table, secondary, mode, rule.filter_availability, "custom-table rule",
                offline=False, online=False, supported=False, reason=text,
                determinate=not allowed, message_av=rule.message_availability,
            )  # fmt: skip
        if ownership is not None and ownership not in rule.ownerships:
            owned = {"UserOwned": "user-owned", "OrganizationOwned": "organization-owned"}
            return self._verdict(
                msg, table, secondary, mode, None, "custom-table rule", offline=False,
                online=False, supported=False,
                reason=f"{msg.name} applies only to {scope} custom tables; {table} is "
                f"{owned.get(ownership, ownership)}",
            )  # fmt: skip
        return self._decide(
            msg, rule.message_availability, rule.filter_availability, table, secondary, mode,
            "custom-table rule", note,
        )  # fmt: skip
