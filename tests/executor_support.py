"""Shared pieces of the executor's tests: an org seed with relationship messages, plans, and a
harvest of the emulator into a cache directory."""

from __future__ import annotations

import json
import os
import typing as t

from fixtures.emulator import seed as seeds


def executor_seed() -> seeds.Seed:
    """The synthetic org plus Associate / Disassociate (All) for account and contact."""
    org = seeds.synthetic_org()
    for name in ("Associate", "Disassociate"):
        org["sdkmessages"].append(seeds.message(name, seeds.ALL))
        for table in ("account", "contact"):
            org["sdkmessagefilters"].append(seeds.message_filter(name, table, seeds.ALL))
    return org


def write_plan(path: str | os.PathLike[str], operations: t.Sequence[t.Mapping[str, t.Any]]) -> str:
    with open(path, "w", encoding="utf-8") as fh:
        json.dump({"operations": list(operations)}, fh, indent=2)
    return os.fspath(path)


def relationship_plan(accounts: int = 15, first: int = 0) -> list[dict[str, t.Any]]:
    """A plan with every kind of queued write, with records that depend on each other:
    accounts, their contacts (bound to the account), contact updates, associations, some
    disassociated again, account state changes and deletes."""
    ops: list[dict[str, t.Any]] = []
    for i in range(first, first + accounts):
        ops.append(
            {"message": "Create", "table": "account", "label": f"a{i}", "data": {"name": f"A{i}"}}
        )
        for j in range(2):
            ops.append(
                {
                    "message": "Create",
                    "table": "contact",
                    "label": f"c{i}_{j}",
                    "data": {
                        "lastname": f"L{i}_{j}",
                        "parentcustomerid_account@odata.bind": f"$a{i}",
                    },
                }
            )
        for j in range(2):
            ops.append(
                {
                    "message": "Update",
                    "table": "contact",
                    "id": f"$c{i}_{j}",
                    "data": {"telephone1": f"555-{i}{j}"},
                }
            )
        ops.append(
            {
                "message": "Associate",
                "table": "account",
                "id": f"$a{i}",
                "relationship": "contact_customer_accounts",
                "related": [{"table": "contact", "id": f"$c{i}_0"}],
            }
        )
        if i % 3 == 0:
            ops.append(
                {
                    "message": "Disassociate",
                    "table": "account",
                    "id": f"$a{i}",
                    "relationship": "contact_customer_accounts",
                    "related": [{"table": "contact", "id": f"$c{i}_0"}],
                }
            )
        if i % 3 == 1:
            ops.append(
                {
                    "message": "SetState",
                    "table": "account",
                    "id": f"$a{i}",
                    "data": {"statecode": 1, "statuscode": 2},
                }
            )
        if i % 4 == 2:
            ops.append({"message": "Delete", "table": "contact", "id": f"$c{i}_1"})
    return ops


State = tuple[dict[str, dict[str, t.Any]], set[t.Any]]  # {entity set: {id: columns}}, links


def expected_state(ops: t.Sequence[t.Mapping[str, t.Any]]) -> State:
    """What the org must hold after ``ops`` (journal entries) are applied once, in order:
    {entity set: {id: columns}} and the set of links. Written independently of playback."""
    sets = {"account": ("accounts", "accountid"), "contact": ("contacts", "contactid")}
    rows: dict[str, dict[str, dict[str, t.Any]]] = {"accounts": {}, "contacts": {}}
    links: set[tuple[str, str, str, str, str]] = set()
    for op in ops:
        name, pk = sets[op["table"]]
        verb = op["message"]
        rid = op["id"]
        if verb == "Create":
            row = {pk: rid, **(op.get("data") or {})}
            for nav, target in (op.get("binds") or {}).items():
                row[f"_{nav}_value"] = target["id"]
            rows[name][rid] = row
        elif verb in ("Update", "SetState"):
            rows[name][rid].update(op.get("data") or {})
        elif verb == "Delete":
            del rows[name][rid]
            links = {lk for lk in links if (lk[0], lk[1]) != (name, rid) and lk[3:] != (name, rid)}
        else:
            rel = op["related"]
            link = (name, rid, op["relationship"], sets[rel["table"]][0], rel["id"])
            if verb == "Associate":
                links.add(link)
            else:
                links.discard(link)
    return rows, links


def actual_state(store: t.Any) -> State:
    from fixtures.emulator import writes

    rows = {}
    for name in ("accounts", "contacts"):
        found = {}
        for row in store.rows(name) if name in store.tables else []:
            row.pop("versionnumber", None)
            found[row[name[:-1] + "id"]] = row
        rows[name] = found
    return rows, set(writes.state(store).links)
