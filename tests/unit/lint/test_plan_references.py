"""References to earlier operations: "$label" values and labels inside @odata.bind paths."""

from __future__ import annotations

import pytest

from validator.plan import Related, bind_reference, find_references


@pytest.mark.parametrize(
    ("value", "label"),
    [
        ("$acme", "acme"),
        ("/accounts($acme)", "acme"),
        ("accounts($acme)", "acme"),
        ("/accounts(00000000-0000-0000-0000-000000000001)", None),
        ("acme", None),
        ("/accounts($acme", None),
        (5, None),
    ],
)
def test_bind_reference(value: object, label: str | None) -> None:
    assert bind_reference(value) == label


def test_find_references_in_id_binds_and_related() -> None:
    refs = find_references(
        "$a",
        {"parentcustomerid_account@odata.bind": "/accounts($b)", "name": "$not-a-bind"},
        [Related("contact", "$c")],
    )
    assert refs == ("a", "b", "c")
