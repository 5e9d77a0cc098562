from __future__ import annotations

import pytest

from metadata.errors import ConfigError, UnknownMessageError, UnknownTableError
from metadata.model import (
    Availability,
    CustomTableRule,
    Message,
    MessageFilter,
    Snapshot,
    Source,
    Table,
)
from tests import published_csv
from validator import check
from validator.engine import Engine

ROWS = published_csv.rows()


def _row_id(row: published_csv.Row) -> str:
    return f"{row.message}-{row.primary or 'none'}-{row.secondary or 'none'}"


@pytest.mark.parametrize("row", ROWS, ids=[_row_id(r) for r in ROWS])
def test_every_published_row(row: published_csv.Row) -> None:
    """The verdict for each of the 1315 published rows matches the CSV's own values."""
    table = row.primary or None
    secondary = row.secondary or None
    if table is None:
        # A table-less message applies to every table: ask about one it has no row for.
        table = "account"
        assert not any(r.message == row.message and r.primary for r in ROWS)
    offline = check(row.message, table, secondary, "offline")
    online = check(row.message, table, secondary, "online")
    assert offline.supported and online.supported
    assert offline.available is row.offline
    assert online.available is row.online
    assert offline.offline is row.offline and offline.online is row.online
    expected_msg = "All" if row.message_availability == "Both" else row.message_availability
    expected_flt = "All" if row.entity_deployment == "Both" else row.entity_deployment
    assert offline.message_availability == expected_msg
    assert offline.filter_availability == expected_flt


@pytest.mark.parametrize("table", ["queue", "user", "site", "SystemUser", "QUEUE", "queues"])
def test_create_not_offline_for_seed_tables(table: str) -> None:
    v = check("Create", table)
    assert not v.available and v.supported and v.online
    assert "SdkMessageFilter.Availability = Server" in v.reason
    assert v.message_availability == "All" and v.filter_availability == "Server"


def test_create_account_offline() -> None:
    v = check("create", "Account")
    assert v.available and v.message == "Create" and v.table == "account"
    assert "SdkMessage.Availability = All" in v.reason


def test_assign_is_server_only_at_message_level() -> None:
    v = check("Assign", "account")
    assert not v.available and v.online
    assert "SdkMessage.Availability = Server" in v.reason


def test_retrieve_queue_offline() -> None:
    assert check("Retrieve", "queue").available


def test_message_level_lists_exception_tables() -> None:
    v = check("Create")
    assert v.available and v.table is None and v.basis == "message"
    expected = sorted({r.primary.lower() for r in ROWS if r.message == "Create" and not r.offline})
    assert list(v.exceptions) == expected
    assert {"queue", "site", "systemuser", "businessunit"} <= set(v.exceptions)
    assert f"except for {len(expected)} tables" in v.reason


def test_message_level_server_message_lists_nothing() -> None:
    v = check("Assign")
    assert not v.available and v.exceptions == ()


def test_online_mode_message_level() -> None:
    assert check("Assign", mode="online").available


def test_unknown_message_suggests() -> None:
    with pytest.raises(UnknownMessageError) as exc:
        check("Craete", "account")
    assert "Create" in exc.value.suggestions
    assert "did you mean Create" in str(exc.value)


def test_unknown_table_suggests() -> None:
    with pytest.raises(UnknownTableError) as exc:
        check("Create", "acount")
    assert "account" in exc.value.suggestions


def test_unsupported_pair() -> None:
    # Win applies to opportunity only.
    v = check("Win", "account")
    assert not v.supported and not v.offline and not v.online
    assert v.basis == "no filter"


def test_secondary_table_row() -> None:
    row = next(r for r in ROWS if r.secondary)
    v = check(row.message, row.primary, row.secondary)
    assert v.basis == "filter" and v.secondary_table == row.secondary.lower()


def test_mode_validated() -> None:
    with pytest.raises(ConfigError):
        check("Create", "account", mode="sideways")  # type: ignore[arg-type]


class TestCustomTables:
    def test_create_on_custom_follows_published_rule(self) -> None:
        v = check("Create", "new_widget")
        assert v.basis == "custom-table rule" and v.supported
        assert not v.offline and v.online
        assert "custom" in v.reason

    def test_user_only_rule_with_unknown_ownership_says_so(self) -> None:
        v = check("Assign", "new_widget", mode="online")
        assert not v.determinate and not v.available
        assert "depends on its ownership" in v.reason

    def test_user_only_rule_with_known_ownership(self) -> None:
        assert check("Assign", "new_widget", mode="online", ownership="user").available
        v = check("Assign", "new_widget", mode="online", ownership="organization")
        assert not v.supported and "organization-owned" in v.reason

    def test_offline_answer_is_determinate_even_without_ownership(self) -> None:
        # Every custom-table rule is Server: offline is "no" whatever the ownership.
        v = check("Assign", "new_widget", mode="offline")
        assert v.determinate and not v.available

    def test_non_custom_shape_is_still_unknown(self) -> None:
        with pytest.raises(UnknownTableError):
            check("Create", "widget")


def _org_snapshot() -> Snapshot:
    return Snapshot(
        [
            Message("Create", Availability.ALL),
            Message("new_OfflineOnly", Availability.CLIENT),
            Message("WhoAmI", Availability.ALL),
        ],
        [
            MessageFilter("Create", "account", None, Availability.ALL),
            MessageFilter("Create", "new_project", None, Availability.CLIENT),
            MessageFilter("new_OfflineOnly", "account", None, Availability.ALL),
            MessageFilter("WhoAmI", None, None, Availability.ALL),
        ],
        [
            Table("account", "Account", "accounts"),
            Table(
                "new_project", "new_Project", "new_projects", ownership="UserOwned", is_custom=True
            ),
        ],
        source=Source(
            "org", org="https://contoso.crm.dynamics.com", harvested_at="2026-11-25T10:00:00Z"
        ),
    )


class TestOrgData:
    def test_client_only_filter(self) -> None:
        e = Engine(_org_snapshot())
        v = e.check("Create", "new_projects", mode="offline")
        assert v.available and v.filter_availability == "Client"
        assert not e.check("Create", "new_project", mode="online").available

    def test_client_only_message(self) -> None:
        e = Engine(_org_snapshot())
        assert e.check("new_offlineonly", "account").available
        v = e.check("new_OfflineOnly", "account", mode="online")
        assert not v.available and "SdkMessage.Availability = Client" in v.reason

    def test_tableless_message_alone(self) -> None:
        v = Engine(_org_snapshot()).check("WhoAmI")
        assert v.available and v.basis == "table-less filter"

    def test_harvest_does_not_presume_custom_tables(self) -> None:
        with pytest.raises(UnknownTableError):
            Engine(_org_snapshot()).check("Create", "new_other")

    def test_source_in_reason_and_json(self) -> None:
        v = Engine(_org_snapshot()).check("Create", "account")
        assert "https://contoso.crm.dynamics.com" in v.reason
        assert v.to_json()["source"] == {
            "kind": "org",
            "org": "https://contoso.crm.dynamics.com",
            "harvested_at": "2026-11-25T10:00:00Z",
        }


def test_custom_rule_applies_to_known_custom_table_without_filters() -> None:
    snap = Snapshot(
        [Message("Create", Availability.ALL)],
        [MessageFilter("Create", "account", None, Availability.ALL)],
        [Table("account"), Table("new_thing", ownership="OrganizationOwned", is_custom=True)],
        [
            CustomTableRule(
                "Create", ("UserOwned", "OrganizationOwned"), Availability.ALL, Availability.SERVER
            )
        ],
        source=Source("published"),
    )
    v = Engine(snap).check("Create", "new_thing")
    assert v.basis == "custom-table rule" and not v.offline and v.online


def test_a_repeated_question_is_answered_once() -> None:
    # issue 14: check() resolved names and wrote the reason on every call (~35x a dict
    # lookup); the snapshot is immutable, so the second answer is the first one.
    from metadata import published

    engine = Engine(published.load())
    first = engine.check("Create", "account")
    calls: list[str] = []
    real = engine.names.lookup_table

    def counting(name: str) -> str | None:
        calls.append(name)
        return real(name)

    engine.names.lookup_table = counting  # type: ignore[method-assign]
    again = engine.check("Create", "account")
    assert again is first and calls == []
    assert engine.check("create", "Account").reason == first.reason  # new spelling: decided
    assert calls == ["Account"]
    assert engine.check("Create", "account", mode="online") != first
    with pytest.raises(UnknownMessageError):  # errors are raised every time, never kept
        engine.check("Creat", "account")
    with pytest.raises(UnknownMessageError):
        engine.check("Creat", "account")


def test_answers_kept_are_bounded(monkeypatch: pytest.MonkeyPatch) -> None:
    import validator.engine as mod
    from metadata import published

    monkeypatch.setattr(mod, "_MAX_ANSWERS", 10)
    engine = Engine(published.load())
    for i in range(50):  # made-up custom tables are answered, so each is a new question
        assert engine.check("Create", f"new_widget{i}").basis == "custom-table rule"
        assert len(engine._answers) <= 10


def test_first_answer_fast_path_matches_the_general_decision() -> None:
    # issue 14: the row case is decided inline (a precomputed table of column pairs and one
    # positional tuple); it must give exactly the Verdict the general _decide builds.
    from metadata import published
    from validator.engine import Verdict

    snap = published.load()
    engine = Engine(snap)
    rows = [f for f in snap.filters if f.primary]
    assert len(rows) > 1000
    for f in rows:
        msg = snap.message(f.message)
        assert msg is not None
        for mode in ("offline", "online"):
            got = engine.check(f.message, f.primary, f.secondary, mode=mode)
            want = engine._decide(
                msg, msg.availability, f.availability, f.primary, f.secondary, mode, "filter"
            )
            assert len(got) == len(Verdict._fields)
            assert got._asdict() == want._asdict()
