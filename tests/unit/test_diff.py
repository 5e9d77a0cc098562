from __future__ import annotations

from metadata.diff import diff
from metadata.model import Availability, Message, MessageFilter, Snapshot, Source, Table

SRC = Source(kind="snapshot")
A, S, C = Availability.ALL, Availability.SERVER, Availability.CLIENT


def test_added_removed_and_availability_changed():
    old = Snapshot(
        [Message("Create", A), Message("Old", S)],
        [MessageFilter("Create", "account", None, A), MessageFilter("Create", "queue", None, S)],
        [Table("account", ownership="UserOwned"), Table("gone")],
        source=SRC,
    )
    new = Snapshot(
        [Message("create", S), Message("New", C)],
        [
            MessageFilter("Create", "account", None, A),
            MessageFilter("Create", "queue", None, A),
            MessageFilter("New", None, None, C),
        ],
        [Table("account", ownership="OrganizationOwned"), Table("fresh")],
        source=SRC,
    )
    d = diff(old, new)
    j = d.to_json()
    assert [m["name"] for m in j["messages"]["added"]] == ["New"]
    assert [m["name"] for m in j["messages"]["removed"]] == ["Old"]
    assert j["messages"]["changed"] == [{"name": "create", "before": "All", "after": "Server"}]
    assert j["filters"]["changed"] == [
        {
            "message": "Create",
            "primary_table": "queue",
            "secondary_table": None,
            "before": "Server",
            "after": "All",
        }
    ]
    assert [f["message"] for f in j["filters"]["added"]] == ["New"]
    assert j["tables"]["changed"][0]["changes"] == {
        "ownership": {"before": "UserOwned", "after": "OrganizationOwned"}
    }
    assert [t["logical_name"] for t in j["tables"]["added"]] == ["fresh"]
    assert not d.is_empty
    assert diff(new, new).is_empty
