from __future__ import annotations

import pytest

from metadata import published
from metadata.errors import UnknownMessageError, UnknownTableError
from validator.names import TABLE_ALIASES, NameResolver


@pytest.fixture(scope="module")
def names() -> NameResolver:
    return NameResolver(published.load())


def test_every_alias_target_exists_in_published_default(names: NameResolver) -> None:
    logical = {t.logical_name for t in published.load().tables}
    missing = {a: tgt for a, tgt in TABLE_ALIASES.items() if tgt not in logical}
    # workflow has no row in the 9.0 table; the alias serves harvested orgs.
    assert missing == {"process": "workflow"}
    for alias, target in TABLE_ALIASES.items():
        if target in logical:
            assert names.table(alias) == target


@pytest.mark.parametrize(
    ("typed", "logical"),
    [
        ("user", "systemuser"),
        ("User", "systemuser"),
        ("SystemUser", "systemuser"),
        ("systemusers", "systemuser"),
        ("case", "incident"),
        ("order", "salesorder"),
        ("note", "annotation"),
        ("Phone Call", "phonecall"),
        ("opportunities", "opportunity"),
        ("UoM", "uom"),
        ("  account ", "account"),
    ],
)
def test_table_names(names: NameResolver, typed: str, logical: str) -> None:
    assert names.table(typed) == logical


def test_message_names_case_insensitive(names: NameResolver) -> None:
    assert names.message("retrievemultiple") == "RetrieveMultiple"


def test_unknown_names_suggest(names: NameResolver) -> None:
    with pytest.raises(UnknownMessageError) as m:
        names.message("Retreive")
    assert m.value.suggestions[0] == "Retrieve"
    with pytest.raises(UnknownTableError) as t:
        names.table("contatc")
    assert "contact" in t.value.suggestions


def test_presumed_custom_only_by_shape(names: NameResolver) -> None:
    assert names.is_presumed_custom("new_widget")
    assert names.is_presumed_custom("contoso_Project")
    assert not names.is_presumed_custom("widget")
    assert not names.is_presumed_custom("_widget")


def test_plain_lookups_build_no_suggestions(
    names: NameResolver, monkeypatch: pytest.MonkeyPatch
) -> None:
    # A $batch reader asks "is this a message?" of every entity set; a miss is the usual answer
    # and must cost a dict lookup, not a difflib search (issue 14: 80 % of a $batch lint).
    import validator.names as mod

    def no_suggestions(*_: object) -> list[str]:
        raise AssertionError("suggestions built for a plain lookup")

    monkeypatch.setattr(mod, "_suggest", no_suggestions)
    assert names.lookup_message(" retrievemultiple ") == "RetrieveMultiple"
    assert names.lookup_message("accounts") is None
    assert names.lookup_table("accounts") == "account"


def test_batch_name_lookup_builds_no_suggestions(monkeypatch: pytest.MonkeyPatch) -> None:
    import validator.names as mod
    from validator.api import default_engine
    from validator.linter import name_lookup

    def no_suggestions(*_: object) -> list[str]:
        raise AssertionError("suggestions built for a plain lookup")

    monkeypatch.setattr(mod, "_suggest", no_suggestions)
    lookup = name_lookup(default_engine())
    assert lookup.message("accounts") is None
    assert lookup.message("assign") == "Assign"
