"""validator.guard: Microsoft's SDK (real, over https) against the emulator, every write checked
before anything is sent; the queueing variant journals what ``msgavail sync`` plays back."""

from __future__ import annotations

import typing as t
import uuid

import pytest

pytest.importorskip("PowerPlatform.Dataverse")  # the test extra installs it

import validator
from fixtures.emulator import Emulator, writes
from tests.cli_runner import run_cli
from tests.executor_support import write_plan


@pytest.fixture
def org(sdk_emulator, cache_dir, token_env, capsys):
    """The org's URL for msgavail, harvested into the test's cache: the same https emulator the
    SDK talks to (msgavail trusts the CA that REQUESTS_CA_BUNDLE names, as the SDK does)."""
    r = run_cli(["harvest", "--org", sdk_emulator.url], capsys)
    assert r.exit_code == 0, r.stderr
    sdk_emulator.reset_log()
    return sdk_emulator.url


def test_published_default_refuses_create_on_queue_before_any_request(sdk_client, sdk_emulator):
    client = validator.guard(sdk_client, mode="offline")  # the published default
    with pytest.raises(validator.NotAvailableError) as err:
        client.records.create("queue", {"name": "Triage"})
    assert isinstance(err.value, validator.MsgavailError)
    assert err.value.verdict.filter_availability == "Server"
    assert err.value.operation == "records.create"
    assert "SdkMessageFilter.Availability = Server" in str(err.value)
    assert sdk_emulator.count() == 0  # nothing reached the emulator
    rid = client.records.create("account", {"name": "Contoso"})
    assert sdk_emulator.store.get("accounts", rid)["name"] == "Contoso"
    assert sdk_emulator.count("accounts", "POST") == 1


def test_every_write_is_checked_against_the_orgs_harvest(sdk_client, sdk_emulator, org):
    client = validator.guard(sdk_client, mode="offline", org=org)
    ids = client.records.create("contact", [{"lastname": "A"}, {"lastname": "B"}])
    assert sdk_emulator.count("contacts/Microsoft.Dynamics.CRM.CreateMultiple") == 1
    client.records.update("contact", ids[0], {"lastname": "A2"})
    client.records.update("contact", ids, {"firstname": "x"})  # UpdateMultiple: All here
    assert sdk_emulator.store.get("contacts", ids[0])["lastname"] == "A2"
    sent = sdk_emulator.count()
    refused = [
        lambda: client.records.update("account", str(uuid.uuid4()), {"name": "n"}),  # Server
        lambda: client.records.update("account", [str(uuid.uuid4())], {"name": "n"}),
        lambda: client.records.delete("contact", ids),  # BulkDelete: Server
        lambda: client.records.upsert(
            "account", [{"alternate_key": {"accountnumber": "A-1"}, "record": {"name": "n"}}]
        ),
        lambda: client.records.delete("queue", str(uuid.uuid4())),  # Delete queue: Server
    ]
    for call in refused:
        with pytest.raises(validator.NotAvailableError):
            call()
    assert sdk_emulator.count() == sent  # none of them was sent
    client.records.delete("contact", ids, use_bulk_delete=False)  # Delete per record: All
    assert sdk_emulator.store.counts()["contacts"] == 0
    client.records.upsert(
        "contact",
        [
            {
                "alternate_key": {"firstname": "J", "emailaddress1": "j@x"},
                "record": {"lastname": "J"},
            }
        ],
    )
    assert [r["lastname"] for r in sdk_emulator.store.rows("contacts")] == ["J"]
    with pytest.raises(validator.UnknownTableError):
        client.records.create("no_such_table", {"name": "x"})
    assert len(client.records.list("contact", select=["lastname"])) == 1  # reads pass through


def test_batch_and_changeset_records_are_checked_as_they_are_added(sdk_client, sdk_emulator):
    client = validator.guard(sdk_client)  # published default
    batch = client.batch.new()
    with pytest.raises(validator.NotAvailableError):
        batch.records.create("queue", {"name": "q"})
    with batch.changeset() as cs, pytest.raises(validator.NotAvailableError):
        cs.records.create("queue", {"name": "q"})
    batch.records.create("account", {"name": "in batch"})
    with batch.changeset() as cs:
        ref = cs.records.create("account", {"name": "parent"})
        cs.records.create("contact", {"lastname": "c", "parentcustomerid_account@odata.bind": ref})
    assert sdk_emulator.count() == 0  # still nothing sent
    result = batch.execute()
    assert [r.status_code for r in result.responses] == [204, 204, 204]
    assert sorted(r["name"] for r in sdk_emulator.store.rows("accounts")) == ["in batch", "parent"]


def test_dataframe_writes_go_through_the_guarded_records(sdk_client, sdk_emulator):
    pd = pytest.importorskip("pandas")
    client = validator.guard(sdk_client)
    with pytest.raises(validator.NotAvailableError):
        client.dataframe.create("queue", pd.DataFrame([{"name": "q"}]))
    client.dataframe.create("account", pd.DataFrame([{"name": "a"}, {"name": "b"}]))
    assert sdk_emulator.store.counts()["accounts"] == 2
    assert sdk_emulator.count("queues") == 0


def _state(emu) -> list[tuple[t.Any, ...]]:
    def row(r: dict[str, t.Any]) -> tuple[t.Any, ...]:
        return tuple(
            sorted((k, v) for k, v in r.items() if k in ("name", "lastname", "telephone1"))
        )

    return sorted(
        (entity_set, row(r))
        for entity_set in ("accounts", "contacts")
        for r in emu.store.rows(entity_set)
    )


def test_queueing_guard_journals_and_sync_plays_back_exactly_once_like_run(
    sdk_client, sdk_emulator, org, data_dir, capsys, tmp_path, start_emulator
):
    acct, contact = str(uuid.uuid4()), str(uuid.uuid4())
    with validator.guard(sdk_client, org=org, queue=True) as client:
        assert client.records.create("account", {"accountid": acct, "name": "Acme"}) == acct
        with pytest.raises(validator.NotAvailableError):
            client.records.update("account", acct, {"name": "server only here"})
        batch = client.batch.new()
        with batch.changeset() as cs:
            ref = cs.records.create("contact", {"contactid": contact, "lastname": "Ng"})
            cs.records.update("contact", ref, {"telephone1": "555"})
        assert [r.status_code for r in batch.execute().responses] == [202, 202]
        more = client.records.create("contact", [{"lastname": "X"}, {"lastname": "Y"}])
        client.records.delete("contact", more[1])
    assert sdk_emulator.count() == 0  # queued, not sent

    # A lost acknowledgement during playback: applied once all the same.
    sdk_emulator.faults.lose_response(path="contacts(", method="PATCH")
    r = run_cli(["sync", "--org", org], capsys)
    assert r.exit_code == 0, r.stdout + r.stderr
    creates = writes.state(sdk_emulator.store).creates
    assert creates[("accounts", acct)] == 1 and creates[("contacts", contact)] == 1
    assert max(creates.values()) == 1
    assert run_cli(["sync", "--org", org], capsys).exit_code == 0  # nothing left: no-op
    assert max(writes.state(sdk_emulator.store).creates.values()) == 1

    # The same operations as a plan, through `run --offline` and `sync`, on a fresh org.
    twin = start_emulator()
    assert run_cli(["harvest", "--org", twin.url], capsys).exit_code == 0
    plan = write_plan(
        tmp_path / "same.json",
        [
            {"message": "Create", "table": "account", "id": acct, "data": {"name": "Acme"}},
            {"message": "Create", "table": "contact", "id": contact, "data": {"lastname": "Ng"}},
            {"message": "Update", "table": "contact", "id": contact, "data": {"telephone1": "555"}},
            {"message": "Create", "table": "contact", "id": more[0], "data": {"lastname": "X"}},
            {"message": "Create", "table": "contact", "id": more[1], "data": {"lastname": "Y"}},
            {"message": "Delete", "table": "contact", "id": more[1]},
        ],
    )
    assert run_cli(["run", plan, "--offline", "--org", twin.url], capsys).exit_code == 0
    assert run_cli(["sync", "--org", twin.url], capsys).exit_code == 0
    assert _state(sdk_emulator) == _state(twin)
    assert [r["name"] for r in sdk_emulator.store.rows("accounts")] == ["Acme"]


def _by_key(emu: Emulator) -> dict[tuple[t.Any, t.Any], dict[str, t.Any]]:
    return {
        (r.get("firstname"), r.get("emailaddress1")): {
            k: r.get(k) for k in ("lastname", "telephone1")
        }
        for r in emu.store.rows("contacts")
    }


UPSERTS: list[t.Any] = [
    {"alternate_key": {"firstname": "Jo'e", "emailaddress1": "joe@x"}, "record": {"lastname": "1"}},
    {"alternate_key": {"firstname": "Ann", "emailaddress1": "ann@x"}, "record": {"lastname": "2"}},
]


def test_queued_upserts_by_alternate_key_replay_exactly_once_like_sending_them(
    sdk_client, sdk_emulator, org, data_dir, capsys, start_emulator, monkeypatch
):
    # Ann exists already: her upsert updates her; Jo'e's creates him.
    ann = sdk_client.records.create(
        "contact", {"firstname": "Ann", "emailaddress1": "ann@x", "lastname": "old"}
    )
    sdk_emulator.reset_log()
    with validator.guard(sdk_client, org=org, queue=True) as client:
        client.records.upsert("contact", UPSERTS)  # UpsertMultiple for the SDK: one op each
        batch = client.batch.new()
        with batch.changeset() as cs:
            cs.records.upsert(
                "contact",
                [{"alternate_key": {"firstname": "Ann", "emailaddress1": "ann@x"},
                  "record": {"telephone1": "555"}}],
            )  # fmt: skip
        assert [r.status_code for r in batch.execute().responses] == [202]
        with pytest.raises(validator.NotAvailableError):  # Upsert on account: Server here
            client.records.upsert(
                "account", [{"alternate_key": {"accountnumber": "A-1"}, "record": {}}]
            )
        with pytest.raises(TypeError):
            client.records.upsert("contact", [{"record": {}}])
        queued = client.journal.ops() if client.journal else []
    assert [(op["message"], op["id"]) for op in queued] == [
        ("Upsert", "firstname='Jo''e',emailaddress1='joe@x'"),
        ("Upsert", "firstname='Ann',emailaddress1='ann@x'"),
        ("Upsert", "firstname='Ann',emailaddress1='ann@x'"),
    ]
    assert sdk_emulator.count() == 0  # queued, not sent

    # Lost acknowledgements: the $batch of the first two and Ann's second upsert, sent alone
    # (it waits behind her first), are applied but never answered, so both are sent again.
    sdk_emulator.faults.lose_response(path="$batch", method="POST")
    sdk_emulator.faults.lose_response(path="contacts(firstname='Ann'", method="PATCH")
    r = run_cli(["sync", "--org", org], capsys)
    assert r.exit_code == 0, r.stdout + r.stderr
    assert [x.fault for x in sdk_emulator.requests() if x.fault] == ["lost_ack", "lost_ack"]
    assert run_cli(["sync", "--org", org], capsys).exit_code == 0  # nothing left
    expected = {
        ("Jo'e", "joe@x"): {"lastname": "1", "telephone1": None},
        ("Ann", "ann@x"): {"lastname": "2", "telephone1": "555"},
    }
    assert _by_key(sdk_emulator) == expected  # one record per key, Ann kept her id
    assert sdk_emulator.store.get("contacts", ann)["lastname"] == "2"
    assert max(writes.state(sdk_emulator.store).creates.values()) == 1

    # The same upserts sent straight through the SDK to a fresh org give the same records.
    twin = start_emulator(tls=True)
    monkeypatch.setenv("REQUESTS_CA_BUNDLE", str(twin.ca_file))
    from PowerPlatform.Dataverse.client import DataverseClient

    from tests.sdk_support import StaticCredential

    with DataverseClient(twin.url, StaticCredential()) as direct:
        direct.records.create(
            "contact", {"firstname": "Ann", "emailaddress1": "ann@x", "lastname": "old"}
        )
        direct.records.upsert("contact", UPSERTS)
        direct.records.upsert(
            "contact",
            [{"alternate_key": {"firstname": "Ann", "emailaddress1": "ann@x"},
              "record": {"telephone1": "555"}}],
        )  # fmt: skip
    assert _by_key(twin) == expected


def test_data_without_an_upsert_message_cannot_queue_one(sdk_client, sdk_emulator, tmp_path):
    with validator.guard(sdk_client, queue=tmp_path / "journal") as client:  # published 9.0
        with pytest.raises(validator.NotQueueableError, match="no Upsert message"):
            client.records.upsert("contact", UPSERTS[:1])
        assert client.journal is not None and client.journal.ops() == []
    assert sdk_emulator.count() == 0


def test_a_queued_upsert_key_with_url_characters_reaches_the_same_record(
    sdk_client, sdk_emulator, org, data_dir, capsys
):
    odd = {"firstname": "a b?c#d%e/f,g=h'i", "emailaddress1": "x@y"}
    # Not used as context managers: leaving one would close the SDK client for the next.
    first = validator.guard(sdk_client, org=org, queue=True)
    first.records.upsert("contact", [{"alternate_key": odd, "record": {"lastname": "1"}}])
    first.records.upsert("contact", [{"alternate_key": odd, "record": {"lastname": "2"}}])
    assert first.journal is not None
    first.journal.close()
    r = run_cli(["sync", "--org", org, "--batch-size", "1"], capsys)  # single requests
    assert r.exit_code == 0, r.stdout + r.stderr
    rows = sdk_emulator.store.rows("contacts")
    assert [(x["firstname"], x["emailaddress1"], x["lastname"]) for x in rows] == [
        (odd["firstname"], "x@y", "2")
    ]
    sdk_emulator.store.delete("contacts", rows[0]["contactid"])
    again = validator.guard(sdk_client, org=org, queue=True)
    batch = again.batch.new()
    batch.records.upsert("contact", [{"alternate_key": odd, "record": {"lastname": "3"}}])
    batch.records.upsert(
        "contact", [{"alternate_key": {**odd, "emailaddress1": "z@y"}, "record": {}}]
    )
    batch.execute()
    assert again.journal is not None
    again.journal.close()
    assert run_cli(["sync", "--org", org], capsys).exit_code == 0  # one $batch
    assert sorted((x["emailaddress1"], x.get("lastname")) for x in sdk_emulator.store.rows(
        "contacts")) == [("x@y", "3"), ("z@y", None)]  # fmt: skip
    assert sdk_emulator.count("$batch", "POST") == 1
