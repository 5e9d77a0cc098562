from __future__ import annotations

import json
import os

import pytest

from metadata import published, snapshot
from metadata.errors import SnapshotFormatError
from metadata.model import Availability


def test_round_trip(tmp_path) -> None:
    snap = published.load()
    path = tmp_path / "snap.json"
    snapshot.write(snap, path)
    back = snapshot.read(path)
    assert back == snap
    assert back.source.kind == "snapshot" and back.source.path == str(path)
    assert oct(os.stat(path).st_mode & 0o777) != "0o600"  # readable like any file a user saves


def test_invalid_json_names_line_and_column(tmp_path) -> None:
    path = tmp_path / "bad.json"
    path.write_text('{\n  "format": "msgavail-snapshot",\n  oops\n}\n')
    with pytest.raises(SnapshotFormatError) as exc:
        snapshot.read(path)
    assert str(exc.value).startswith(f"{path}:3:3: invalid JSON")


def test_schema_violation_names_the_place(tmp_path) -> None:
    data = snapshot.to_dict(published.load())
    data["filters"][3]["availability"] = "Sometimes"
    path = tmp_path / "bad.json"
    path.write_text(json.dumps(data))
    with pytest.raises(SnapshotFormatError) as exc:
        snapshot.read(path)
    msg = str(exc.value)
    assert str(path) in msg and "filters[3].availability" in msg and "\n" not in msg
    assert exc.value.line == 1 and exc.value.column is not None  # json.dumps wrote one line


def test_schema_violation_names_line_and_column(tmp_path) -> None:
    data = snapshot.to_dict(published.load())
    data["filters"][3]["availability"] = "Sometimes"
    path = tmp_path / "bad.json"
    text = json.dumps(data, indent=1)
    path.write_text(text)
    with pytest.raises(SnapshotFormatError) as exc:
        snapshot.read(path)
    line = text.splitlines()[exc.value.line - 1]  # type: ignore[operator]
    assert '"availability": "Sometimes"' in line
    assert str(exc.value).startswith(f"{path}:{exc.value.line}:{exc.value.column}: ")


def test_missing_file(tmp_path) -> None:
    with pytest.raises(SnapshotFormatError, match="cannot read snapshot"):
        snapshot.read(tmp_path / "nope.json")


def test_numeric_availability_accepted(tmp_path) -> None:
    doc = {
        "format": "msgavail-snapshot",
        "format_version": 1,
        "source": {"kind": "org", "org": "https://x.crm.dynamics.com"},
        "messages": [{"name": "Create", "availability": 2}],
        "filters": [{"message": "Create", "primary_table": "Account", "availability": 1}],
    }
    path = tmp_path / "s.json"
    path.write_text(json.dumps(doc))
    snap = snapshot.read(path)
    f = snap.filter("create", "account")
    assert f is not None and f.availability is Availability.CLIENT
