"""The embedded default agrees with its source CSVs, and regenerating it changes nothing."""

from __future__ import annotations

import json
import subprocess
import sys

import jsonschema

from metadata import published, snapshot
from tests import published_csv


def test_shipped_file_is_what_the_generator_writes() -> None:
    sys.path.insert(0, published_csv.ROOT)
    try:
        from scripts.build_published_default import generate
    finally:
        sys.path.remove(published_csv.ROOT)
    with open(published.DATA_PATH, encoding="utf-8") as fh:
        shipped = fh.read()
    assert shipped == generate(), "run: python scripts/build_published_default.py"


def test_shipped_file_matches_snapshot_schema() -> None:
    with open(published.DATA_PATH, encoding="utf-8") as fh:
        data = json.load(fh)
    jsonschema.Draft202012Validator(snapshot.load_schema()).validate(data)


def test_every_csv_row_is_a_filter_with_its_values() -> None:
    snap = published.load()
    rows = published_csv.rows()
    assert len(snap.filters) == len(rows) == 1315
    word = {"Both": "All", "Server": "Server", "Client": "Client"}
    for row in rows:
        f = snap.filter(row.message, row.primary.lower() or None, row.secondary.lower() or None)
        assert f is not None, row
        assert f.availability.label == word[row.entity_deployment]
        m = snap.message(row.message)
        assert m is not None and m.availability.label == word[row.message_availability]
    assert len(snap.messages) == len({r.message for r in rows}) == 88


def test_schema_names_become_logical_names_with_entity_sets() -> None:
    snap = published.load()
    user = snap.table("systemuser")
    assert user is not None and user.schema_name == "SystemUser"
    assert user.entity_set_name == "systemusers"
    assert snap.table("opportunity").entity_set_name == "opportunities"
    assert snap.table("customeraddress").entity_set_name == "customeraddresses"


def test_custom_rules_by_ownership() -> None:
    snap = published.load()
    assert len(snap.custom_rules) == 12
    assign = snap.custom_rule("Assign")
    create = snap.custom_rule("Create")
    assert assign is not None and assign.ownerships == ("UserOwned",)
    assert create is not None and set(create.ownerships) == {"UserOwned", "OrganizationOwned"}


def test_generator_script_runs(tmp_path) -> None:
    # The documented regeneration command works from a checkout.
    out = subprocess.run(
        [
            sys.executable,
            "-c",
            "from scripts.build_published_default import generate; print(len(generate()))",
        ],
        cwd=published_csv.ROOT,
        capture_output=True,
        text=True,
        check=True,
    )
    assert int(out.stdout) > 100_000
