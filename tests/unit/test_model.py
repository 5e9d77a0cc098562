from __future__ import annotations

import pytest

from metadata.model import Availability, Message, MessageFilter, Snapshot, Source, Table


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        (0, Availability.SERVER),
        (1, Availability.CLIENT),
        (2, Availability.ALL),
        ("Server", Availability.SERVER),
        ("client", Availability.CLIENT),
        ("All", Availability.ALL),
        ("Both", Availability.ALL),
        (" both ", Availability.ALL),
    ],
)
def test_availability_parse(raw: object, expected: Availability) -> None:
    assert Availability.parse(raw) is expected


@pytest.mark.parametrize("raw", [3, -1, "Everywhere", None, True, 1.0])
def test_availability_rejects(raw: object) -> None:
    with pytest.raises(ValueError):
        Availability.parse(raw)


def test_availability_modes() -> None:
    assert Availability.CLIENT.allows("offline") and not Availability.CLIENT.allows("online")
    assert Availability.SERVER.allows("online") and not Availability.SERVER.allows("offline")
    assert Availability.ALL.allows("offline") and Availability.ALL.allows("online")
    assert [a.label for a in Availability] == ["Server", "Client", "All"]


def test_snapshot_indexes() -> None:
    snap = Snapshot(
        [Message("Create", Availability.ALL)],
        [
            MessageFilter("Create", "account", None, Availability.ALL),
            MessageFilter("Create", "queue", None, Availability.SERVER),
            MessageFilter("Create", "contact", "account", Availability.CLIENT),
        ],
        [Table("account")],
        source=Source("published"),
    )
    assert snap.message("CREATE") is snap.messages[0]
    assert snap.filter("create", "queue") is snap.filters[1]
    assert snap.filter("Create", "contact", "account") is snap.filters[2]
    assert snap.filter("Create", "contact") is None
    assert len(snap.filters_for("create")) == 3
    assert snap.has_filters_for_table("queue") and not snap.has_filters_for_table("lead")
    with pytest.raises(TypeError):
        snap.tables_by_name["x"] = Table("x")  # type: ignore[index]
