"""Mode mobile: the rule steps in order, each with its reason; profiles chosen by name."""

from __future__ import annotations

import json
import typing as t

import pytest

from metadata import diff, snapshot
from metadata.errors import (
    ConfigError,
    DataUnavailableError,
    SnapshotFormatError,
    UnknownProfileError,
)
from metadata.model import OfflineProfile, ProfileItem
from tests import mobile_support
from validator.api import check, default_engine
from validator.engine import Engine
from validator.linter import LintConfig, Linter
from validator.readers.structure import build_operation

FIELD = "Field Technician"


@pytest.fixture(scope="module")
def engine() -> Engine:
    return Engine(mobile_support.snapshot())


def test_table_in_profile_is_available_even_where_the_filter_says_server(engine: Engine) -> None:
    classic = engine.check("Create", "contact")
    assert classic.available is False and classic.filter_availability == "Server"
    v = engine.check("Create", "contact", mode="mobile", profile=FIELD)
    assert v.available and v.mobile and v.mode == "mobile" and v.profile == FIELD
    assert v.mobile_basis == "available"
    assert "Xrm.WebApi.offline.createRecord" in v.reason and FIELD in v.reason
    assert "SdkMessageFilter.Availability = Server" in v.reason and "does not apply" in v.reason
    assert v.reason.endswith("[harvest of https://contoso.example at 2026-01-01T00:00:00Z]")


def test_table_outside_profile_names_the_profile(engine: Engine) -> None:
    v = engine.check("Create", "queue", mode="mobile", profile="field technician")
    assert not v.available and v.mobile_basis == "not-in-profile"
    assert "queue is not a table of the mobile offline profile 'Field Technician'" in v.reason


def test_table_in_profile_but_not_enabled_for_offline(engine: Engine) -> None:
    v = engine.check("Update", "contoso_badge", mode="mobile", profile=FIELD)
    assert not v.available and v.mobile_basis == "not-offline-enabled"
    assert "IsAvailableOffline = false" in v.reason


def test_the_two_offline_flags_disagreeing_is_said(engine: Engine) -> None:
    v = engine.check("Update", "incident", mode="mobile", profile="Sales")
    assert v.available and "IsOfflineInMobileClient = false disagrees" in v.reason


def test_message_outside_the_five_is_not_available(engine: Engine) -> None:
    for name in ("Assign", "WhoAmI", "Associate"):
        table = "account" if name == "Assign" else None
        v = engine.check(name, table, mode="mobile", profile=FIELD)
        assert not v.available and v.mobile_basis == "message", name
    assert "N:N relationships are read-only" in engine.check("Associate", profile=FIELD,
                                                             mode="mobile").reason  # fmt: skip


def test_order_pair_first_then_message_then_table(engine: Engine) -> None:
    # Assign on queue: no filter row -> the pair step decides, not the message step
    v = engine.check("Assign", "queue", mode="mobile", profile=FIELD)
    assert v.mobile_basis == "unsupported-pair" and not v.supported
    assert "no SdkMessageFilter row" in v.reason
    # Assign on account: the pair exists, the message decides (even though account is in it)
    assert engine.check("Assign", "account", mode="mobile", profile=FIELD).mobile_basis == "message"


@pytest.mark.parametrize("name", ["SetState", "Upsert"])
def test_cases_the_docs_leave_open_are_undetermined(engine: Engine, name: str) -> None:
    v = engine.check(name, "account", mode="mobile", profile=FIELD)
    assert not v.available and not v.determinate and v.mobile_basis == "message-undetermined"
    assert "undetermined" in v.reason and "docs do not say" in v.reason


def test_message_level_lists_the_profile_tables(engine: Engine) -> None:
    v = engine.check("Create", mode="mobile", profile=FIELD)
    assert v.available and v.profile_tables == ("account", "contact", "contoso_inspection")
    assert v.exceptions == ("contoso_badge",)
    assert "account, contact, contoso_inspection" in v.reason
    assert json.loads(json.dumps(v.to_json()))["profile_tables"] == list(v.profile_tables)


def test_profile_choice() -> None:
    one = Engine(
        mobile_support.snapshot(profiles=[OfflineProfile("Only", (ProfileItem("account"),))])
    )
    assert one.check("Create", "account", mode="mobile").profile == "Only"
    several = Engine(mobile_support.snapshot())
    with pytest.raises(ConfigError, match="choose one with --profile: 'Field Technician', 'Sales'"):
        several.check("Create", "account", mode="mobile")
    with pytest.raises(UnknownProfileError, match="did you mean Field Technician"):
        several.check("Create", "account", mode="mobile", profile="Feild Technican")
    none = Engine(mobile_support.snapshot(profiles=[]))
    with pytest.raises(DataUnavailableError, match="has no mobile offline profiles"):
        none.check("Create", "account", mode="mobile")
    with pytest.raises(DataUnavailableError, match="carries no mobile offline profiles"):
        default_engine().check("Create", "account", mode="mobile")


def test_other_modes_carry_the_mobile_answer(engine: Engine) -> None:
    v = engine.check("Create", "contact", profile=FIELD)
    assert v.mode == "offline" and v.available is False and v.mobile is True
    assert v.profile == FIELD
    # several profiles and none named: no mobile answer, no error outside mode mobile
    assert engine.check("Create", "contact").mobile is None
    published = check("Create", "account")
    assert published.mobile is None and published.profile is None
    assert "mobile" in published.to_json() and published.to_json()["mobile"] is None


def test_library_check_takes_mode_and_profile(engine: Engine) -> None:
    v = check("Create", "contact", mode="mobile", profile="sales", engine=engine)
    assert not v.available and v.profile == "Sales" and v.mobile_basis == "not-in-profile"


# -- snapshot files ----------------------------------------------------------------------------


def test_snapshot_round_trip_keeps_profiles(tmp_path: t.Any) -> None:
    snap = mobile_support.snapshot()
    path = tmp_path / "s.json"
    snapshot.write(snap, path)
    doc = json.loads(path.read_text())
    assert doc["format_version"] == 2 and [p["name"] for p in doc["profiles"]] == [FIELD, "Sales"]
    back = snapshot.read(path)
    assert back == snap and back.profile("sales") is not None
    assert back.table("contact") is not None
    assert back.table("incident").is_offline_in_mobile_client is False
    # an org with no profiles stays "known to have none", not "no profile data"
    snapshot.write(mobile_support.snapshot(profiles=[]), path)
    assert snapshot.read(path).has_profile_data


def test_format_1_files_are_still_read_without_profile_data(tmp_path: t.Any) -> None:
    doc = {
        "format": "msgavail-snapshot",
        "format_version": 1,
        "source": {"kind": "org", "org": "https://x.example"},
        "messages": [{"name": "Create", "availability": "All"}],
        "filters": [{"message": "Create", "primary_table": "account", "availability": "All"}],
        "tables": [{"logical_name": "account", "is_available_offline": True}],
    }
    path = tmp_path / "old.json"
    path.write_text(json.dumps(doc))
    snap = snapshot.read(path)
    assert not snap.has_profile_data and snap.profiles == ()


def test_bad_profile_is_a_schema_error_with_its_line(tmp_path: t.Any) -> None:
    doc = snapshot.to_dict(mobile_support.snapshot())
    doc["profiles"][0]["items"][0]["distribution"] = "everything"
    path = tmp_path / "bad.json"
    path.write_text(json.dumps(doc, indent=1))
    with pytest.raises(SnapshotFormatError, match=r"profiles\[0\]\.items\[0\]\.distribution") as e:
        snapshot.read(path)
    assert e.value.line is not None


def test_diff_reports_tables_added_to_and_removed_from_a_profile() -> None:
    old = mobile_support.snapshot()
    field = old.profile(FIELD)
    assert field is not None
    changed = field._replace(
        items=(*[i for i in field.items if i.table != "contoso_badge"], ProfileItem("incident"))
    )
    new = mobile_support.snapshot(profiles=[changed, OfflineProfile("Inspectors", ())])
    d = diff.diff(old, new)
    assert [c.name for c in d.profiles_changed] == [FIELD]
    assert d.profiles_changed[0].tables_added == ("incident",)
    assert d.profiles_changed[0].tables_removed == ("contoso_badge",)
    assert [p.name for p in d.profiles_added] == ["Inspectors"]
    assert [p.name for p in d.profiles_removed] == ["Sales"]
    j = d.to_json()["profiles"]
    assert j["changed"] == [
        {"name": FIELD, "tables_added": ["incident"], "tables_removed": ["contoso_badge"]}
    ]
    assert not diff.diff(old, mobile_support.snapshot()).profiles_changed


# -- lint rules ----------------------------------------------------------------------------------


def _lint(engine: Engine, *values: t.Any, profile: str | None = FIELD) -> list[tuple[int, str]]:
    ops = [build_operation(i, v, path="p.json", line=i + 1, column=1) for i, v in enumerate(values)]
    linter = Linter(engine, LintConfig(mode="mobile", profile=profile, max_metadata_age=None))
    return [(d.operation, d.code) for d in linter.lint_operations("p.json", ops)]


def test_lint_gives_exactly_the_mobile_codes(engine: Engine) -> None:
    gid = "00000000-0000-0000-0000-0000000000%02d"
    found = _lint(
        engine,
        {"message": "Create", "table": "contact", "data": {"lastname": "Ng"}},
        {"message": "Create", "table": "queue", "data": {"name": "q"}},
        {"message": "Assign", "table": "account", "id": gid % 1},
        {"message": "Update", "table": "account", "id": gid % 2, "data": {"name": "x"}},
        {"message": "Assign", "table": "queue", "id": gid % 3},
        {"message": "SetState", "table": "account", "id": gid % 4, "data": {"statecode": 1}},
    )
    assert found == [(1, "MA011"), (2, "MA012"), (4, "MA003"), (5, "MA012")]


def test_lint_bind_to_a_table_outside_the_profile_warns(engine: Engine) -> None:
    gid = "00000000-0000-0000-0000-000000000001"
    found = _lint(
        engine,
        {"message": "Create", "table": "queue", "label": "q", "data": {"name": "q"}},
        {"message": "Create", "table": "account", "label": "a", "data": {"name": "a"}},
        {"message": "Create", "table": "contact", "data": {
            "parentcustomerid_account@odata.bind": "$a",
            "msa_managingpartnerid@odata.bind": f"/queues({gid})",
            "preferredqueue@odata.bind": "/queues($q)",
        }},
    )  # fmt: skip
    assert found == [(0, "MA011"), (2, "MA013"), (2, "MA013")]
    linter = Linter(engine, LintConfig(mode="mobile", profile=FIELD, max_metadata_age=None))
    op = build_operation(0, {"message": "Create", "table": "contact", "data": {
        "x@odata.bind": f"/queues({gid})"}}, path="p.json", line=1, column=1)  # fmt: skip
    (diag,) = linter.lint_operations("p.json", [op])
    assert diag.severity == "warning"
    assert "queue is not a table of the mobile offline profile 'Field Technician'" in diag.message


def test_offline_mode_lint_is_unchanged_by_profiles(engine: Engine) -> None:
    linter = Linter(engine, LintConfig(mode="offline", max_metadata_age=None))
    op = build_operation(0, {"message": "Create", "table": "contact"}, path="p", line=1, column=1)
    assert [d.code for d in linter.lint_operations("p", [op])] == ["MA005"]


def test_lint_in_mobile_mode_needs_a_profile_choice(engine: Engine) -> None:
    with pytest.raises(ConfigError, match="choose one with --profile"):
        _lint(engine, {"message": "Create", "table": "contact"}, profile=None)
