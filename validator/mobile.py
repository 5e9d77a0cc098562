"""Power Apps mobile offline: what the mobile client can do offline, by the user's profile.

``SdkMessage.Availability`` / ``SdkMessageFilter.Availability`` describe the classic offline
client (Dynamics 365 for Outlook with Offline Access); the Power Apps mobile app does not
consult them. There, what runs offline is decided by the client API and the user's mobile
offline profile. Sources (docs/reference/mobile-offline.md, re-checked on Microsoft Learn):

* ``Xrm.WebApi.offline`` has createRecord, retrieveRecord, retrieveMultipleRecords,
  updateRecord and deleteRecord (and isAvailableOffline), and "these methods will work only for
  tables that are enabled for mobile offline synchronization and available in current user's
  mobile offline profile" (power-apps/developer/model-driven-apps/clientapi/reference/
  xrm-webapi/offline).
* ``Xrm.WebApi.online.execute`` / ``executeMultiple``: "This method is supported only for the
  online mode" (…/xrm-webapi/online/execute): actions, functions and custom APIs (Assign,
  WhoAmI, custom actions) do not run offline.
* N:N relationships are read-only offline ("Add Existing" is hidden): Associate and
  Disassociate do not run offline (power-apps/mobile/offline-limitations).
* The profile tables: ``mobileofflineprofile`` and ``mobileofflineprofileitem``
  (``selectedentitytypecode``, ``recorddistributioncriteria``...; Dataverse table reference).
* ``EntityMetadata.IsAvailableOffline`` ("whether the entity is available offline") and
  ``IsOfflineInMobileClient`` (a BooleanManagedProperty). The pages do not say which one the
  profile editor requires; the rule here follows ``IsAvailableOffline`` and the reason says so
  when the two disagree.

The rule, in order, each step with its own reason (and its lint code):

1. the (message, table) pair must exist at all (MA003, as in the other modes);
2. the message must be one of the five the mobile client runs locally (MA012);
3. the table must be an item of the profile (MA011, naming the profile) and enabled for
   offline, ``IsAvailableOffline`` (MA011).

Where the docs leave a case open (SetState, which changes ``statecode``; Upsert, which
``Xrm.WebApi.offline`` does not list but whose effect is a create or an update) the verdict is
not available and says it is undetermined and why (MA012), rather than guess.
"""

from __future__ import annotations

import typing as t

from metadata.model import OfflineProfile, ProfileItem, Snapshot

MobileBasis = t.Literal[
    "available",  # in the profile, enabled for offline, one of the five messages
    "unsupported-pair",  # step 1: no filter row (MA003)
    "message",  # step 2: not one of the five (MA012)
    "message-undetermined",  # step 2: the docs leave it open (MA012, says undetermined)
    "not-in-profile",  # step 3: the table is not an item of the profile (MA011)
    "not-offline-enabled",  # step 3: IsAvailableOffline = false (MA011)
    "table-undetermined",  # step 3: the data has neither offline flag for the table (MA011)
]

# The Xrm.WebApi.offline method behind each message the mobile client runs locally.
OFFLINE_METHODS: t.Mapping[str, str] = {
    "create": "createRecord",
    "retrieve": "retrieveRecord",
    "retrievemultiple": "retrieveMultipleRecords",
    "update": "updateRecord",
    "delete": "deleteRecord",
}
MOBILE_MESSAGES = ("Create", "Retrieve", "RetrieveMultiple", "Update", "Delete")

_UPSERT_WHY = (
    "Xrm.WebApi.offline lists createRecord and updateRecord but no upsert, and the published "
    "docs do not say whether an Upsert (create-or-update by key) queued offline plays back; "
    "plan it as a Create or an Update"
)
_SETSTATE_WHY = (
    "the mobile client has no SetState method, and the published docs do not say whether "
    "changing statecode/statuscode through updateRecord is allowed offline"
)
UNDETERMINED: t.Mapping[str, str] = {
    "upsert": _UPSERT_WHY,
    "setstate": _SETSTATE_WHY,
    "setstatedynamicentity": _SETSTATE_WHY,
}
_RELATE = {
    "associate": "N:N relationships are read-only offline in the mobile client",
    "disassociate": "N:N relationships are read-only offline in the mobile client",
}
_NOT_CONSULTED = "SdkMessageFilter.Availability does not apply to the mobile client"


def _not_consulted(filter_availability: str | None) -> str:
    if filter_availability is None:
        return _NOT_CONSULTED
    return (
        f"SdkMessageFilter.Availability = {filter_availability} describes the classic offline "
        "client and does not apply to the mobile client"
    )


class MobileDecision(t.NamedTuple):
    available: bool
    basis: MobileBasis
    reason: str


def message_decision(message: str) -> MobileDecision | None:
    """Step 2 alone: None when the message is one of the five, else why not."""
    key = message.lower()
    if key in OFFLINE_METHODS:
        return None
    if key in UNDETERMINED:
        return MobileDecision(
            False,
            "message-undetermined",
            f"{message} in mobile offline is undetermined: {UNDETERMINED[key]}",
        )
    why = _RELATE.get(key) or (
        "the mobile client runs only Create, Retrieve, RetrieveMultiple, Update and Delete "
        "offline (Xrm.WebApi.offline); actions, functions and custom APIs run only online "
        "(Xrm.WebApi.online.execute)"
    )
    return MobileDecision(False, "message", f"{message} is not available in mobile offline: {why}")


def table_decision(
    snapshot: Snapshot,
    message: str,
    table: str,
    profile: OfflineProfile,
    filter_availability: str | None = None,
) -> MobileDecision:
    """Step 3 for one table of a message that passed steps 1 and 2."""
    subject = f"{message} on {table}"
    item = snapshot.profile_item(profile.name, table)
    if item is None:
        return MobileDecision(
            False,
            "not-in-profile",
            f"{subject} is not available in mobile offline: {table} is not a table of the "
            f"mobile offline profile {profile.name!r}",
        )
    tb = snapshot.table(table)
    flag = tb.is_available_offline if tb is not None else None
    mobile_flag = tb.is_offline_in_mobile_client if tb is not None else None
    disagree = ""
    if flag is not None and mobile_flag is not None and flag != mobile_flag:
        disagree = (
            f"; note IsOfflineInMobileClient = {str(mobile_flag).lower()} disagrees, and the "
            "docs do not say which flag the profile editor requires (decided by "
            "IsAvailableOffline)"
        )
    if flag is None and mobile_flag is None:
        return MobileDecision(
            False,
            "table-undetermined",
            f"{subject} in mobile offline is undetermined: {table} is in profile "
            f"{profile.name!r} but the data records neither IsAvailableOffline nor "
            "IsOfflineInMobileClient for it",
        )
    if flag is None:
        flag = mobile_flag
        disagree = "; IsAvailableOffline is not recorded, so IsOfflineInMobileClient decides"
        column = "IsOfflineInMobileClient"
    else:
        column = "IsAvailableOffline"
    if not flag:
        return MobileDecision(
            False,
            "not-offline-enabled",
            f"{subject} is not available in mobile offline: {table} is in profile "
            f"{profile.name!r} but not enabled for offline ({column} = false){disagree}",
        )
    method = OFFLINE_METHODS[message.lower()]
    return MobileDecision(
        True,
        "available",
        f"{subject} is available in mobile offline: Xrm.WebApi.offline.{method} on a table of "
        f"profile {profile.name!r} ({describe_item(item)}) enabled for offline ({column} = "
        f"true){disagree}; {_not_consulted(filter_availability)}",
    )


def describe_item(item: ProfileItem) -> str:
    return item.describe_distribution()


def profile_decision(
    snapshot: Snapshot, message: str, profile: OfflineProfile, supported_tables: t.Iterable[str]
) -> tuple[MobileDecision, tuple[str, ...], tuple[str, ...]]:
    """The message-level answer: (decision, tables where it runs, profile tables where not)."""
    step2 = message_decision(message)
    if step2 is not None:
        return step2, (), ()
    supported = set(supported_tables)
    ok: list[str] = []
    not_ok: list[str] = []
    for table in profile.tables:
        if table in supported and table_decision(snapshot, message, table, profile).available:
            ok.append(table)
        else:
            not_ok.append(table)
    method = OFFLINE_METHODS[message.lower()]
    if not ok:
        return (
            MobileDecision(
                False,
                "not-in-profile",
                f"{message} is not available in mobile offline: no table of profile "
                f"{profile.name!r} supports it and is enabled for offline",
            ),
            (),
            tuple(not_ok),
        )
    text = (
        f"{message} is available in mobile offline (Xrm.WebApi.offline.{method}) for the "
        f"{len(ok)} table{'s' if len(ok) != 1 else ''} of profile {profile.name!r}: "
        + ", ".join(ok)
    )
    if not_ok:
        text += f"; not for its other tables: {', '.join(not_ok)}"
    return MobileDecision(True, "available", text + f"; {_NOT_CONSULTED}"), tuple(ok), tuple(not_ok)


__all__ = [
    "MOBILE_MESSAGES",
    "OFFLINE_METHODS",
    "UNDETERMINED",
    "MobileBasis",
    "MobileDecision",
    "message_decision",
    "profile_decision",
    "table_decision",
]
