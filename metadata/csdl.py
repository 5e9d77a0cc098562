"""Reading the CSDL ``$metadata`` document: entity sets, their entity types and keys.

The document comes from the network, so it is parsed with lxml hardened: no entity resolution,
no DTD loading, no network access, no huge-tree mode. Type references may use the schema alias
(``mscrm.account``) or the namespace (``Microsoft.Dynamics.CRM.account``); both resolve.
"""

from __future__ import annotations

import typing as t

from metadata.errors import ServerError

EDMX = "http://docs.oasis-open.org/odata/ns/edmx"
EDM = "http://docs.oasis-open.org/odata/ns/edm"


class EntitySet(t.NamedTuple):
    name: str  # entity set name, e.g. "accounts"
    entity_type: str  # logical name, e.g. "account"
    key: tuple[str, ...]  # primary key properties


def parse_entity_sets(document: bytes) -> list[EntitySet]:
    """Entity sets of the ``System`` container with their types' keys."""
    from lxml import etree  # type: ignore[import-untyped]

    parser = etree.XMLParser(
        resolve_entities=False, no_network=True, load_dtd=False, huge_tree=False
    )
    try:
        root = etree.fromstring(document, parser)
    except etree.XMLSyntaxError as exc:
        raise ServerError(f"the $metadata document is not valid XML: {exc}") from None
    if root.tag != f"{{{EDMX}}}Edmx":
        raise ServerError("the $metadata document is not an OData CSDL (edmx:Edmx) document")
    keys: dict[str, tuple[str, ...]] = {}
    bases: dict[str, str] = {}
    prefixes: set[str] = set()
    for schema in root.iter(f"{{{EDM}}}Schema"):
        for attr in ("Namespace", "Alias"):
            if schema.get(attr):
                prefixes.add(schema.get(attr) + ".")
        for et in schema.iter(f"{{{EDM}}}EntityType"):
            name = et.get("Name") or ""
            refs = tuple(
                r.get("Name") or "" for r in et.iterfind(f"{{{EDM}}}Key/{{{EDM}}}PropertyRef")
            )
            keys[name] = refs
            if et.get("BaseType"):
                bases[name] = _local(et.get("BaseType") or "", prefixes)
    sets = []
    for es in root.iter(f"{{{EDM}}}EntitySet"):
        entity = _local(es.get("EntityType") or "", prefixes)
        key = keys.get(entity, ())
        seen = {entity}
        while not key and entity in bases and bases[entity] not in seen:
            entity = bases[entity]  # keys are inherited from the base type
            seen.add(entity)
            key = keys.get(entity, ())
        sets.append(
            EntitySet(es.get("Name") or "", _local(es.get("EntityType") or "", prefixes), key)
        )
    return sets


def _local(type_name: str, prefixes: set[str]) -> str:
    for prefix in prefixes:
        if type_name.startswith(prefix):
            return type_name[len(prefix) :]
    return type_name
