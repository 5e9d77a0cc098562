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


# issue 13 scope 6: the DOCTYPE refusal was a byte regex, blind to every encoding but UTF-8's
# family; now the parser decides after decoding. Python's codec, the name declared in the XML
# declaration (None: none declared, so libxml2 goes by the byte order mark).
ENCODINGS = [
    ("utf-8", "UTF-8"),
    ("utf-8-sig", None),
    ("utf-16", "UTF-16"),  # with a BOM
    ("utf-16", None),
    ("utf-16-le", "UTF-16LE"),
    ("utf-16-be", "UTF-16BE"),
    ("utf-32", "UTF-32"),  # with a BOM
    ("utf-32", None),
    ("iso-8859-1", "ISO-8859-1"),
]


def _write_encoded(tmp_path: t.Any, text: str, codec: str) -> str:
    p = os.path.join(tmp_path, "em.xml")
    with open(p, "wb") as fh:
        fh.write(text.encode(codec))
    return p


@pytest.mark.parametrize(("codec", "declared"), ENCODINGS)
@pytest.mark.parametrize(
    "doctype",
    [
        '<!DOCTYPE s:Envelope [<!ENTITY a "aaaaaaaaaa"><!ENTITY b "&a;&a;&a;&a;&a;&a;&a;">]>',
        '<!DOCTYPE s:Envelope [<!ENTITY xxe SYSTEM "file:///etc/passwd">]>',
        "<!DOCTYPE s:Envelope>",
    ],
)
def test_doctype_is_refused_in_every_encoding(
    tmp_path: t.Any, codec: str, declared: str | None, doctype: str
) -> None:
    decl = f'<?xml version="1.0" encoding="{declared}"?>' if declared else '<?xml version="1.0"?>'
    body = envelope(request("Create", param("Target", ref("account", G)), "&b;&xxe;"))
    if "ENTITY" not in doctype:
        body = body.replace("&b;&xxe;", "")
    text = decl + "\n  " + doctype + "\n" + body
    with pytest.raises(PlanError) as info:
        list(read_plan(_write_encoded(tmp_path, text, codec)).operations)
    assert ":2:3: DOCTYPE and entity declarations are not allowed" in str(info.value)


@pytest.mark.parametrize(("codec", "declared"), ENCODINGS)
def test_every_encoding_reads_with_positions(
    tmp_path: t.Any, codec: str, declared: str | None
) -> None:
    decl = f'<?xml version="1.0" encoding="{declared}"?>' if declared else '<?xml version="1.0"?>'
    one = request("Create", param("Target", ref("account", G)))
    text = (
        decl
        + "\n"
        + envelope("  " + one + " " + request("Delete", param("Target", ref("contact", H))))
    )
    a, b = read_plan(_write_encoded(tmp_path, text, codec)).operations
    assert (a.message, a.table, b.message, b.table) == ("Create", "account", "Delete", "contact")
    assert a.line == b.line and a.column == 3 and b.column == 3 + len(one) + 1


def test_libxml2_messages_are_one_line(tmp_path: t.Any) -> None:
    p = os.path.join(tmp_path, "em.xml")
    with open(p, "wb") as fh:
        fh.write(b"<\x00")  # libxml2 ends this message with a newline
    with pytest.raises(PlanError) as info:
        read_plan(p)
    assert "invalid XML" in str(info.value) and "\n" not in str(info.value)
