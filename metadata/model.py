"""The immutable model of availability facts, and the Snapshot that indexes them.

Records are NamedTuples rather than dataclasses: they are immutable, cheap to build (the
embedded default is loaded on every ``msgavail check``) and importing them costs nothing extra.
Table names inside the model are always Dataverse *logical* names (lower case); message names
keep their canonical spelling and are indexed case-insensitively.
"""

# No ``from __future__ import annotations`` here: typing.NamedTuple turns every string
# annotation into a ForwardRef, which compiles it (about 12 us a field, 60 fields, on every
# start-up); evaluated annotations cost nothing extra. Forward references are quoted instead.
import enum
import typing as t
from types import MappingProxyType

Mode = t.Literal["offline", "online", "mobile"]
MODES: tuple[Mode, ...] = ("offline", "online", "mobile")
"""``offline``: the classic offline client (SdkMessage/SdkMessageFilter availability);
``online``: the server; ``mobile``: Power Apps mobile offline, decided by the user's mobile
offline profile (see validator/mobile.py and docs/reference/mobile-offline.md)."""
ClassicMode = t.Literal["offline", "online"]
"""The modes SdkMessage/SdkMessageFilter availability answers."""


class Availability(enum.IntEnum):
    """``SdkMessage.Availability`` / ``SdkMessageFilter.Availability``: where a message runs."""

    SERVER = 0
    CLIENT = 1
    ALL = 2

    @classmethod
    def parse(cls, value: object) -> "Availability":
        """Read 0/1/2 or "Server"/"Client"/"All" (the published table's "Both" means All)."""
        if isinstance(value, bool):
            raise ValueError(f"not an availability value: {value!r}")
        if isinstance(value, int):
            return cls(value)
        if isinstance(value, str):
            found = _AVAILABILITY_WORDS.get(value.strip().lower())
            if found is not None:
                return found
        raise ValueError(
            f"not an availability value: {value!r} (expected Server, Client, All/Both or 0, 1, 2)"
        )

    @property
    def label(self) -> str:
        """The name shown to users and written to JSON: "Server", "Client" or "All"."""
        return _AVAILABILITY_LABELS[self]

    def allows(self, mode: ClassicMode) -> bool:
        """Offline needs Client or All; online needs Server or All. (The mobile client does
        not consult these columns: docs/reference/mobile-offline.md §1.)"""
        if mode == "offline":
            return self is not Availability.SERVER
        return self is not Availability.CLIENT


_AVAILABILITY_LABELS = {
    Availability.SERVER: "Server",
    Availability.CLIENT: "Client",
    Availability.ALL: "All",
}
_AVAILABILITY_WORDS = {
    "server": Availability.SERVER,
    "0": Availability.SERVER,
    "client": Availability.CLIENT,
    "1": Availability.CLIENT,
    "all": Availability.ALL,
    "both": Availability.ALL,
    "2": Availability.ALL,
}


class Message(t.NamedTuple):
    """One ``sdkmessage`` row."""

    name: str
    availability: Availability
    is_private: bool = False
    is_active: bool = True
    category: str | None = None
    version: int | None = None
    id: str | None = None


class MessageFilter(t.NamedTuple):
    """One ``sdkmessagefilter`` row: a message on a (primary, secondary) table pair.

    ``primary``/``secondary`` are logical names, or None for "no table".
    """

    message: str
    primary: str | None
    secondary: str | None
    availability: Availability
    custom_processing_step_allowed: bool | None = None
    is_visible: bool | None = None
    version: int | None = None
    id: str | None = None


class Table(t.NamedTuple):
    """One ``EntityDefinitions`` entry (only the properties msgavail uses)."""

    logical_name: str
    schema_name: str | None = None
    entity_set_name: str | None = None
    primary_id_attribute: str | None = None
    object_type_code: int | None = None
    ownership: str | None = None
    is_custom: bool = False
    is_available_offline: bool | None = None
    display_name: str | None = None
    is_offline_in_mobile_client: bool | None = None
    """``IsOfflineInMobileClient.Value`` (a BooleanManagedProperty); None when not harvested."""


RecordDistribution = t.Literal["related-only", "all-records", "other", "custom"]
RECORD_DISTRIBUTION: t.Mapping[int, RecordDistribution] = MappingProxyType(
    {0: "related-only", 1: "all-records", 2: "other", 3: "custom"}
)
"""``mobileofflineprofileitem.recorddistributioncriteria``: 0 Related data only, 1 All records,
2 Other data filter, 3 Custom data filter (Dataverse table reference, MobileOfflineProfileItem)."""


class ProfileItem(t.NamedTuple):
    """One ``mobileofflineprofileitem`` row: a table in a mobile offline profile and which of
    its records the device downloads. Only ``table`` decides verdicts; the rest is shown."""

    table: str
    """``selectedentitytypecode``: the table's logical name."""
    distribution: RecordDistribution | None = None
    owned_by_me: bool | None = None
    owned_by_my_team: bool | None = None
    owned_by_my_business_unit: bool | None = None
    get_related_records: bool | None = None
    can_be_followed: bool | None = None
    sync_interval_minutes: int | None = None
    name: str | None = None
    id: str | None = None
    version: int | None = None

    def describe_distribution(self) -> str:
        """The distribution criteria in words, e.g. "all records" or "custom filter (mine)"."""
        words = {
            "related-only": "related records only",
            "all-records": "all records",
            "other": "other data filter",
            "custom": "custom data filter",
            None: "distribution not recorded",
        }[self.distribution]
        owned = [
            what
            for flag, what in (
                (self.owned_by_me, "mine"),
                (self.owned_by_my_team, "my team's"),
                (self.owned_by_my_business_unit, "my business unit's"),
            )
            if flag
        ]
        return words + (f" ({', '.join(owned)})" if owned else "")


class OfflineProfile(t.NamedTuple):
    """One ``mobileofflineprofile`` row with its items (tables sorted by logical name)."""

    name: str
    items: tuple[ProfileItem, ...] = ()
    description: str | None = None
    is_validated: bool | None = None
    published_on: str | None = None
    id: str | None = None
    version: int | None = None

    def item(self, logical_name: str) -> ProfileItem | None:
        key = logical_name.lower()
        return next((i for i in self.items if i.table == key), None)

    @property
    def tables(self) -> tuple[str, ...]:
        return tuple(i.table for i in self.items)


class CustomTableRule(t.NamedTuple):
    """A published rule for custom tables: which ownerships a message applies to, and where.

    Used only for custom tables that the data has no filter rows for (the embedded default).
    """

    message: str
    ownerships: tuple[str, ...]
    message_availability: Availability
    filter_availability: Availability


class Source(t.NamedTuple):
    """Where a snapshot's facts came from."""

    kind: t.Literal["published", "org", "snapshot"]
    org: str | None = None
    harvested_at: str | None = None
    description: str = ""
    path: str | None = None

    def to_json(self) -> dict[str, str | None]:
        return {"kind": self.kind, "org": self.org, "harvested_at": self.harvested_at}

    def describe(self) -> str:
        """A short phrase for reasons and headers, e.g. "org https://x (harvested ...)"."""
        if self.kind == "published":
            return self.description or "published default"
        if self.kind == "org":
            return f"harvest of {self.org} at {self.harvested_at}"
        origin = f" of {self.org}" if self.org else ""
        when = f" harvested {self.harvested_at}" if self.harvested_at else ""
        return f"snapshot {self.path or ''}{origin}{when}".replace("  ", " ").strip()


FilterKey = tuple[str, str, str]
"""(message lower-cased, primary logical name or "", secondary logical name or "")."""


def filter_key(message: str, primary: str | None, secondary: str | None) -> FilterKey:
    return (message.lower(), primary or "", secondary or "")


class Snapshot:
    """An immutable set of messages, filters, tables and custom-table rules, indexed.

    Lookups by message name and by (message, primary, secondary) are dictionary lookups.
    """

    __slots__ = (
        "_custom_rules",
        "_filters",
        "_filters_by_key",
        "_filters_by_message",
        "_messages",
        "_messages_by_key",
        "_primaries",
        "_profile_items",
        "_profiles",
        "_profiles_by_key",
        "_rules_by_message",
        "_tables",
        "_tables_by_key",
        "source",
    )

    def __init__(
        self,
        messages: t.Iterable[Message],
        filters: t.Iterable[MessageFilter],
        tables: t.Iterable[Table] = (),
        custom_rules: t.Iterable[CustomTableRule] = (),
        *,
        source: Source,
        profiles: t.Iterable[OfflineProfile] | None = None,
    ) -> None:
        self.source = source
        # None: the data carries no profile information at all (the published default, a
        # format-1 snapshot); an empty tuple: the org was harvested and has no profiles.
        self._profiles = None if profiles is None else tuple(profiles)
        self._profiles_by_key = {p.name.lower(): p for p in self._profiles or ()}
        self._profile_items = {
            p.name.lower(): {i.table: i for i in p.items} for p in self._profiles or ()
        }
        self._messages = tuple(messages)
        self._filters = tuple(filters)
        self._tables = tuple(tables)
        self._custom_rules = tuple(custom_rules)
        self._messages_by_key = {m.name.lower(): m for m in self._messages}
        by_key: dict[FilterKey, MessageFilter] = {}
        by_message: dict[str, list[MessageFilter]] = {}
        for f in self._filters:
            k = (f.message.lower(), f.primary or "", f.secondary or "")  # filter_key, inlined
            by_key[k] = f
            by_message.setdefault(k[0], []).append(f)
        self._filters_by_key = by_key
        self._filters_by_message = {k: tuple(v) for k, v in by_message.items()}
        self._tables_by_key = {tb.logical_name.lower(): tb for tb in self._tables}
        self._rules_by_message = {r.message.lower(): r for r in self._custom_rules}
        self._primaries = frozenset(k[1] for k in by_key if k[1])

    # -- whole collections -------------------------------------------------------------------
    @property
    def messages(self) -> tuple[Message, ...]:
        return self._messages

    @property
    def filters(self) -> tuple[MessageFilter, ...]:
        return self._filters

    @property
    def tables(self) -> tuple[Table, ...]:
        return self._tables

    @property
    def custom_rules(self) -> tuple[CustomTableRule, ...]:
        return self._custom_rules

    @property
    def profiles(self) -> tuple[OfflineProfile, ...]:
        return self._profiles or ()

    @property
    def has_profile_data(self) -> bool:
        """True when the data says which mobile offline profiles exist (possibly none)."""
        return self._profiles is not None

    @property
    def tables_by_name(self) -> t.Mapping[str, Table]:
        return MappingProxyType(self._tables_by_key)

    @property
    def filters_by_key(self) -> t.Mapping[FilterKey, MessageFilter]:
        """Every filter by its ``filter_key`` (the engine's first-answer lookup: the dict
        itself, read-only by its type, because a proxy's lookups cost a third more)."""
        return self._filters_by_key

    # -- indexed lookups ---------------------------------------------------------------------
    def message(self, name: str) -> Message | None:
        return self._messages_by_key.get(name.lower())

    def filter(
        self, message: str, primary: str | None = None, secondary: str | None = None
    ) -> MessageFilter | None:
        return self._filters_by_key.get(filter_key(message, primary, secondary))

    def filters_for(self, message: str) -> tuple[MessageFilter, ...]:
        return self._filters_by_message.get(message.lower(), ())

    def table(self, logical_name: str) -> Table | None:
        return self._tables_by_key.get(logical_name.lower())

    def profile(self, name: str) -> OfflineProfile | None:
        """The profile of that name, case-insensitively (names are unique per org in practice;
        with duplicates the last one read wins)."""
        return self._profiles_by_key.get(name.strip().lower())

    def profile_item(self, profile: str, logical_name: str) -> ProfileItem | None:
        """O(1): the profile's item for a table (the hot path of mobile-mode lint)."""
        items = self._profile_items.get(profile.lower())
        return items.get(logical_name) if items is not None else None

    def custom_rule(self, message: str) -> CustomTableRule | None:
        return self._rules_by_message.get(message.lower())

    def has_filters_for_table(self, logical_name: str) -> bool:
        """True when any filter names this table as primary (used for the custom-table rule)."""
        return logical_name.lower() in self._primaries

    def __repr__(self) -> str:
        return (
            f"<Snapshot {self.source.kind} messages={len(self._messages)} "
            f"filters={len(self._filters)} tables={len(self._tables)} "
            f"profiles={'-' if self._profiles is None else len(self._profiles)}>"
        )

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, Snapshot):
            return NotImplemented
        return (
            self._messages == other._messages
            and self._filters == other._filters
            and self._tables == other._tables
            and self._custom_rules == other._custom_rules
            and self._profiles == other._profiles
        )

    __hash__ = None  # type: ignore[assignment]
