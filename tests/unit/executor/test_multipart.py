"""Reading $batch responses as the documentation shows them (reference §6.6)."""

from __future__ import annotations

from validator.executor.multipart import decode

DOCUMENTED = (
    "--batchresponse_1\r\n"
    "Content-Type: multipart/mixed; boundary=changesetresponse_2\r\n"
    "\r\n"
    "--changesetresponse_2\r\n"
    "Content-Type: application/http\r\n"
    "Content-Transfer-Encoding: binary\r\n"
    "Content-ID: 1\r\n"
    "\r\n"
    "HTTP/1.1 204 No Content\r\n"
    "OData-Version: 4.0\r\n"
    "Location: https://contoso.crm.dynamics.com/api/data/v9.2/accounts(1)\r\n"
    "OData-EntityId: https://contoso.crm.dynamics.com/api/data/v9.2/accounts(1)\r\n"
    "\r\n"
    "\r\n"
    "--changesetresponse_2--\r\n"
    "--batchresponse_1\r\n"
    "Content-Type: application/http\r\n"
    "Content-Transfer-Encoding: binary\r\n"
    "\r\n"
    "HTTP/1.1 400 Bad Request\r\n"
    "REQ_ID: 5ecd1cb3\r\n"
    "Content-Type: application/json; odata.metadata=minimal\r\n"
    "OData-Version: 4.0\r\n"
    "\r\n"
    '{"error":{"code":"0x80044331","message":"A validation error occurred."}}\r\n'
    "--batchresponse_1--\r\n"
)


def test_changeset_parts_and_plain_parts_in_order():
    parts = decode('multipart/mixed; boundary="batchresponse_1"', DOCUMENTED.encode())
    assert [p.status for p in parts] == [204, 400]
    assert parts[0].headers["odata-entityid"].endswith("accounts(1)")
    assert parts[1].json()["error"]["code"] == "0x80044331"
    assert parts[1].headers["req_id"] == "5ecd1cb3"


def test_extra_whitespace_and_unknown_headers_are_tolerated():
    text = DOCUMENTED.replace("OData-Version: 4.0\r\n", "OData-Version: 4.0\r\nX-Extra: y\r\n")
    parts = decode("multipart/mixed; boundary=batchresponse_1; charset=utf-8", text.encode())
    assert [p.status for p in parts] == [204, 400]
