"""ExecuteMultiple requests: the mapping, positions, and a parser that refuses entities."""

from __future__ import annotations

import os
import threading
import typing as t
from http.server import BaseHTTPRequestHandler, HTTPServer

import pytest

from metadata.errors import PlanError
from validator.plan import Related
from validator.readers import read_plan

NS = (
    'xmlns:s="http://schemas.xmlsoap.org/soap/envelope/" '
    'xmlns:a="http://schemas.microsoft.com/xrm/2011/Contracts" '
    'xmlns:i="http://www.w3.org/2001/XMLSchema-instance" '
    'xmlns:b="http://schemas.datacontract.org/2004/07/System.Collections.Generic"'
)
G = "2b6c1d9e-1111-4f5e-9a7b-000000000001"
H = "2b6c1d9e-1111-4f5e-9a7b-000000000002"


def envelope(*requests: str) -> str:
    inner = "\n".join(requests)
    return (
        f"<s:Envelope {NS}><s:Body>\n"
        '<Execute xmlns="http://schemas.microsoft.com/xrm/2011/Contracts/Services">\n'
        '<request i:type="a:ExecuteMultipleRequest"><a:Parameters>\n'
        "<a:KeyValuePairOfstringanyType><b:key>Requests</b:key>\n"
        f'<b:value i:type="a:OrganizationRequestCollection">\n{inner}\n</b:value>\n'
        "</a:KeyValuePairOfstringanyType></a:Parameters>\n"
        "<a:RequestName>ExecuteMultiple</a:RequestName></request></Execute>\n"
        "</s:Body></s:Envelope>\n"
    )


def param(key: str, value: str) -> str:
    pair = "a:KeyValuePairOfstringanyType"
    return f"<{pair}><b:key>{key}</b:key>{value}</{pair}>"


def request(name: str | None, *params: str, typed: str = "a:OrganizationRequest") -> str:
    rn = f"<a:RequestName>{name}</a:RequestName>" if name else ""
    return (
        f'<a:OrganizationRequest i:type="{typed}"><a:Parameters>{"".join(params)}'
        f"</a:Parameters>{rn}</a:OrganizationRequest>"
    )


def ref(table: str, ident: str) -> str:
    return (
        f'<b:value i:type="a:EntityReference"><a:Id>{ident}</a:Id>'
        f"<a:LogicalName>{table}</a:LogicalName></b:value>"
    )


def read(tmp_path: t.Any, text: str) -> list[t.Any]:
    p = os.path.join(tmp_path, "em.xml")
    with open(p, "w", encoding="utf-8") as fh:
        fh.write(text)
    return list(read_plan(p).operations)


def test_mapping(tmp_path: t.Any) -> None:
    entity = (
        '<b:value i:type="a:Entity"><a:Attributes/><a:Id>00000000-0000-0000-0000-000000000000'
        "</a:Id><a:LogicalName>account</a:LogicalName></b:value>"
    )
    query = '<b:value i:type="a:QueryExpression"><a:EntityName>contact</a:EntityName></b:value>'
    related = (
        '<b:value i:type="a:EntityReferenceCollection"><a:EntityReference>'
        f"<a:Id>{H}</a:Id><a:LogicalName>contact</a:LogicalName></a:EntityReference></b:value>"
    )
    ops = read(
        tmp_path,
        envelope(
            request("Create", param("Target", entity)),
            request(None, param("Target", ref("account", G)), typed="a:AssignRequest"),
            request("RetrieveMultiple", param("Query", query)),
            request(
                "Associate",
                param("Target", ref("account", G)),
                param(
                    "Relationship",
                    "<b:value><a:SchemaName>contact_customer_accounts</a:SchemaName></b:value>",
                ),
                param("RelatedEntities", related),
            ),
            request("WhoAmI"),
        ),
    )
    got = [(o.message, o.table, o.id) for o in ops]
    assert got == [
        ("Create", "account", None),
        ("Assign", "account", G),
        ("RetrieveMultiple", "contact", None),
        ("Associate", "account", G),
        ("WhoAmI", None, None),
    ]
    assert ops[3].relationship == "contact_customer_accounts"
    assert ops[3].related == (Related("contact", H),)
    assert [o.line for o in ops] == [6, 7, 8, 9, 10]
    assert all(o.column == 1 for o in ops)


def test_requests_on_one_line_get_their_own_columns(tmp_path: t.Any) -> None:
    text = envelope(request("WhoAmI") + "  " + request("WhoAmI")).replace("\n", "")
    a, b = read(tmp_path, text)
    assert a.line == b.line == 1
    assert a.column < b.column


class _Spy(BaseHTTPRequestHandler):
    hits: t.ClassVar[list[str]] = []

    def do_GET(self) -> None:
        _Spy.hits.append(self.path)
        self.send_response(200)
        self.end_headers()
        self.wfile.write(b"<!ENTITY x 'boom'>")

    def log_message(self, *args: object) -> None:
        pass


@pytest.mark.parametrize(
    "doctype",
    [
        '<!DOCTYPE s:Envelope [<!ENTITY a "aaaaaaaaaa"><!ENTITY b "&a;&a;&a;&a;&a;&a;&a;">]>',
        '<!DOCTYPE s:Envelope [<!ENTITY xxe SYSTEM "file:///etc/passwd">]>',
        '<!DOCTYPE s:Envelope SYSTEM "http://127.0.0.1:{port}/evil.dtd">',
        '<!DOCTYPE s:Envelope [<!ENTITY % p SYSTEM "http://127.0.0.1:{port}/p.dtd"> %p;]>',
    ],
)
def test_doctype_and_entities_are_refused_without_fetching(tmp_path: t.Any, doctype: str) -> None:
    server = HTTPServer(("127.0.0.1", 0), _Spy)
    thread = threading.Thread(target=server.serve_forever, args=(0.05,), daemon=True)
    thread.start()
    try:
        _Spy.hits.clear()
        text = '<?xml version="1.0"?>\n' + doctype.replace("{port}", str(server.server_port))
        text += "\n" + envelope(request("Create", param("Target", ref("account", G))))
        with pytest.raises(PlanError) as info:
            read(tmp_path, text)
        assert ":2:1: DOCTYPE" in str(info.value)
        assert _Spy.hits == []
    finally:
        server.shutdown()
        server.server_close()


def test_the_parser_itself_is_hardened() -> None:
    # Even past the DOCTYPE check, the parser resolves nothing and loads nothing.
    from validator.readers.soap import _parser

    parser = _parser()
    from lxml import etree

    doc = etree.fromstring(
        b'<!DOCTYPE r [<!ENTITY e SYSTEM "file:///etc/hostname">]><r>&e;</r>', parser
    )
    text = "".join(doc.itertext())
    assert text in ("", "&e;")  # left unresolved: the file was never read


@pytest.mark.parametrize(
    ("text", "what"),
    [
        ("<a>", "invalid XML"),
        ("<r/>", "not a SOAP ExecuteMultiple request"),
        (f"<s:Envelope {NS}><s:Body/></s:Envelope>", "no Requests parameter"),
    ],
)
def test_not_execute_multiple(tmp_path: t.Any, text: str, what: str) -> None:
    with pytest.raises(PlanError, match=what):
        read(tmp_path, text)


def test_requests_as_a_named_member(tmp_path: t.Any) -> None:
    text = (
        f"<s:Envelope {NS}><s:Body><a:ExecuteMultipleRequest>\n<a:Requests>\n"
        + request("Create", param("Target", ref("account", G)))
        + "\n</a:Requests></a:ExecuteMultipleRequest></s:Body></s:Envelope>"
    )
    (op,) = read(tmp_path, text)
    assert (op.message, op.table, op.line) == ("Create", "account", 3)
