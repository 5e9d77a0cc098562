"""Turning what users type into canonical message names and table logical names.

Messages match case-insensitively. Tables match by logical name, schema name or entity set name
(case-insensitively), then by a short list of everyday words (``user`` -> ``systemuser``). An
unknown name raises an error carrying the nearest known names.
"""

from __future__ import annotations

import re
import typing as t

from metadata.errors import UnknownMessageError, UnknownTableError, UnlistedMessageError
from metadata.model import Snapshot

# Words people use for tables whose logical names differ. An alias only applies when its target
# exists in the data and no real table already has that name.
TABLE_ALIASES: t.Mapping[str, str] = {
    "user": "systemuser",
    "users": "systemuser",
    "case": "incident",
    "cases": "incident",
    "order": "salesorder",
    "orders": "salesorder",
    "note": "annotation",
    "notes": "annotation",
    "activity": "activitypointer",
    "activities": "activitypointer",
    "orderproduct": "salesorderdetail",
    "orderline": "salesorderdetail",
    "quoteproduct": "quotedetail",
    "quoteline": "quotedetail",
    "invoiceproduct": "invoicedetail",
    "invoiceline": "invoicedetail",
    "contractline": "contractdetail",
    "unit": "uom",
    "unitgroup": "uomschedule",
    "marketinglist": "list",
    "pricelist": "pricelevel",
    "pricelistitem": "productpricelevel",
    "currency": "transactioncurrency",
    "securityrole": "role",
    "emailtemplate": "template",
    "process": "workflow",
    "article": "knowledgearticle",
    "caseresolution": "incidentresolution",
    "opportunityline": "opportunityproduct",
    "view": "savedquery",
    "personalview": "userquery",
    "chart": "savedqueryvisualization",
    "form": "systemform",
    "dashboard": "systemform",
    "trace": "plugintracelog",
    "plugintrace": "plugintracelog",
    "address": "customeraddress",
    "resource": "bookableresource",
    "booking": "bookableresourcebooking",
}

# Publisher prefix + underscore: the shape of a custom table's logical name (new_project).
# Compiled on first use: only names the data lacks are matched, and start-up pays for every
# pattern compiled at import.
_CUSTOM_NAME = r"^[a-z][a-z0-9]{1,7}_[a-z0-9_]+$"


def _squash(name: str) -> str:
    # "Phone Call", "phone-call" and "phonecall" are the same table to a user.
    return name.strip().lower().replace(" ", "").replace("-", "")


def _suggest(name: str, candidates: t.Iterable[str]) -> list[str]:
    import difflib  # lazy: only errors need it

    pool = {c.lower(): c for c in candidates}
    found = difflib.get_close_matches(name.strip().lower(), list(pool), n=3, cutoff=0.6)
    return [pool[f] for f in found]


class NameResolver:
    """Resolves names against one Snapshot; built once per loaded snapshot."""

    def __init__(self, snapshot: Snapshot) -> None:
        self._messages = {m.name.lower(): m.name for m in snapshot.messages}
        tables: dict[str, str] = {}
        for tb in snapshot.tables:
            tables[tb.logical_name] = tb.logical_name
        for tb in snapshot.tables:  # schema and set names never shadow a logical name
            for other in (tb.schema_name, tb.entity_set_name):
                if other:
                    tables.setdefault(other.lower(), tb.logical_name)
        for f in snapshot.filters:  # tolerate filters naming tables the definitions lack
            if f.primary:
                tables.setdefault(f.primary, f.primary)
            if f.secondary:
                tables.setdefault(f.secondary, f.secondary)
        self._logical = frozenset(tables.values())
        self._tables = tables
        self.tables: t.Mapping[str, str] = tables
        """Every lower-case spelling the data knows -> logical name (no aliases)."""
        self._aliases = {a: tgt for a, tgt in TABLE_ALIASES.items() if tgt in self._logical}
        # Data that carries custom-table rules (the published default) knows it lists no custom
        # tables, so a custom-looking name there is a custom table, not a typo.
        self._presume_custom = bool(snapshot.custom_rules)
        # The published table is a 2017-2018 list: a real message missing from it is not a typo.
        self._published = snapshot.source.kind == "published"

    def message(self, name: str) -> str:
        """The canonical name for ``name``; raises UnknownMessageError with suggestions."""
        found = self.lookup_message(name)
        if found is None:
            if self._published:
                from validator.known_messages import dataverse_message

                real = dataverse_message(name)
                if real is not None:
                    raise UnlistedMessageError(name, real)
            raise UnknownMessageError(name, _suggest(name, self._messages.values()))
        return found

    def lookup_message(self, name: str) -> str | None:
        """The canonical name for ``name``, or None: a plain lookup that suggests nothing.

        Readers ask this of every URL segment of a ``$batch`` body (is it a message?); a miss
        is the common answer there, and building suggestions for it cost ~80 % of a lint.
        """
        return self._messages.get(name.strip().lower())

    def table(self, name: str) -> str:
        """The logical name for ``name``; raises UnknownTableError with suggestions."""
        found = self.lookup_table(name)
        if found is None:
            raise UnknownTableError(name, _suggest(name, [*self._logical, *self._aliases]))
        return found

    def lookup_table(self, name: str) -> str | None:
        key = name.strip().lower()
        found = self._tables.get(key)
        if found is not None:
            return found
        squashed = _squash(name)
        return self._tables.get(squashed) or self._aliases.get(squashed)

    def is_presumed_custom(self, name: str) -> bool:
        """True when ``name`` is not in the data but the data expects custom tables by shape."""
        return self._presume_custom and bool(re.match(_CUSTOM_NAME, name.strip().lower()))
