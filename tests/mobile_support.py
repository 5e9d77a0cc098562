"""A small snapshot with mobile offline profiles, shared by the mobile-mode unit tests.

It mirrors the emulator's org where it matters: Update on account and Create on contact are
Server in SdkMessageFilter (the classic offline client cannot), yet both tables are in the
"Field Technician" profile; queue is in no profile; "Sales" holds a different set of tables.
"""

from __future__ import annotations

from metadata.model import (
    Availability,
    Message,
    MessageFilter,
    OfflineProfile,
    ProfileItem,
    Snapshot,
    Source,
    Table,
)

A = Availability
CRUD = ("Create", "Retrieve", "RetrieveMultiple", "Update", "Delete")


def snapshot(*, profiles: list[OfflineProfile] | None = None) -> Snapshot:
    messages = [Message(m, A.ALL) for m in CRUD] + [
        Message("Assign", A.SERVER),
        Message("SetState", A.ALL),
        Message("Upsert", A.ALL),
        Message("Associate", A.ALL),
        Message("WhoAmI", A.ALL),
    ]
    filters = []
    for tb in ("account", "contact", "contoso_inspection", "incident", "queue", "contoso_badge"):
        for m in CRUD:
            server = (m, tb) in {("Update", "account"), ("Create", "contact"), ("Create", "queue")}
            filters.append(MessageFilter(m, tb, None, A.SERVER if server else A.ALL))
        filters.append(MessageFilter("Upsert", tb, None, A.ALL))
    filters += [
        MessageFilter("Assign", "account", None, A.SERVER),
        MessageFilter("SetState", "account", None, A.ALL),
        MessageFilter("Associate", None, None, A.ALL),
        MessageFilter("WhoAmI", None, None, A.ALL),
    ]
    tables = [
        Table("account", "Account", "accounts", is_available_offline=True,
              is_offline_in_mobile_client=True),
        Table("contact", "Contact", "contacts", is_available_offline=True,
              is_offline_in_mobile_client=True),
        Table("contoso_inspection", "contoso_Inspection", "contoso_inspections", is_custom=True,
              is_available_offline=True, is_offline_in_mobile_client=True),
        Table("incident", "Incident", "incidents", is_available_offline=True,
              is_offline_in_mobile_client=False),
        Table("queue", "Queue", "queues", is_available_offline=False),
        Table("contoso_badge", "contoso_Badge", "contoso_badges", is_custom=True,
              is_available_offline=False, is_offline_in_mobile_client=False),
    ]  # fmt: skip
    if profiles is None:
        profiles = [
            OfflineProfile(
                "Field Technician",
                (
                    ProfileItem("account", "all-records"),
                    ProfileItem("contact", "custom", owned_by_me=True),
                    ProfileItem("contoso_badge", "related-only"),
                    ProfileItem("contoso_inspection", "custom", owned_by_my_team=True),
                ),
            ),
            OfflineProfile(
                "Sales",
                (ProfileItem("account", "all-records"), ProfileItem("incident", "all-records")),
            ),
        ]
    return Snapshot(
        messages,
        filters,
        tables,
        source=Source("org", org="https://contoso.example", harvested_at="2026-01-01T00:00:00Z"),
        profiles=profiles,
    )
