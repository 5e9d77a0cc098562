"""Hypothesis fuzzing: readers either return operations or raise PlanError; never crash or hang.

Examples are bounded (count and deadline) so the suite stays fast.
"""

from __future__ import annotations

import atexit
import json
import os
import shutil
import tempfile
import typing as t

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from metadata.errors import PlanError
from validator.readers import iter_operations

FUZZ = settings(
    max_examples=150,
    deadline=1000,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture],
)
_DIR = tempfile.mkdtemp(prefix="msgavail-fuzz-")
atexit.register(shutil.rmtree, _DIR, True)


def run_reader(ext: str, data: bytes) -> None:
    path = os.path.join(_DIR, "f" + ext)
    with open(path, "wb") as fh:
        fh.write(data)
    try:
        _, ops = iter_operations(path)
        for op in ops:
            assert op.line >= 1 and op.column >= 1
            assert isinstance(op.problems, tuple)
    except PlanError as exc:
        assert "\n" not in str(exc)
        assert str(exc).startswith(path)


json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=8),
    lambda inner: (
        st.lists(inner, max_size=4)
        | st.dictionaries(
            st.sampled_from(["message", "table", "id", "data", "label", "related", "x", "entity"]),
            inner,
            max_size=4,
        )
    ),
    max_leaves=12,
)


@FUZZ
@given(st.lists(json_values, max_size=6), st.integers(min_value=0, max_value=200))
def test_json_plans_with_random_operations(ops: list[t.Any], cut: int) -> None:
    text = json.dumps({"operations": ops}, indent=1)
    run_reader(".json", text.encode())
    run_reader(".json", text[:cut].encode())  # truncated anywhere


@FUZZ
@given(st.binary(max_size=300))
def test_json_bytes(data: bytes) -> None:
    run_reader(".json", data)


@FUZZ
@given(st.text(alphabet=st.sampled_from(list("{}[]:,\"' -\n\tabc0&*!|>#%@")), max_size=200))
def test_yaml_text(text: str) -> None:
    run_reader(".yaml", ("operations:\n" + text).encode())
    run_reader(".yaml", text.encode())


_BATCH_PIECES = [
    "--b\n", "--b--\n", "--c\n", "--c--\n", "Content-Type: application/http\n",
    "Content-Type: multipart/mixed; boundary=c\n", "Content-ID: 1\n", "\n", "\r\n",
    "POST accounts HTTP/1.1\n", "PATCH $1 HTTP/1.1\n", "GET WhoAmI HTTP/1.1\n",
    "DELETE accounts(1)/x/$ref HTTP/1.1\n", '{"a@odata.bind": "$1"}\n', "{\n", "garbage\n",
    "POST accounts(1)/Microsoft.Dynamics.CRM.X HTTP/1.1\n",
]  # fmt: skip


@FUZZ
@given(st.lists(st.sampled_from(_BATCH_PIECES), max_size=30))
def test_batch_bodies(pieces: list[str]) -> None:
    run_reader(".batch", "".join(pieces).encode())


@FUZZ
@given(st.binary(max_size=200))
def test_batch_bytes(data: bytes) -> None:
    run_reader(".batch", data)


_XML_PIECES = [
    "<s:Envelope xmlns:s='urn:s'>", "</s:Envelope>", "<key>Requests</key>", "<value>",
    "</value>", "<OrganizationRequest>", "</OrganizationRequest>", "<RequestName>Create",
    "</RequestName>", "<Parameters>", "</Parameters>", "<!DOCTYPE x>", "&amp;", "&x;", "<a/>",
]  # fmt: skip


@FUZZ
@given(st.lists(st.sampled_from(_XML_PIECES), max_size=30))
def test_soap_documents(pieces: list[str]) -> None:
    run_reader(".xml", "".join(pieces).encode())


@FUZZ
@given(st.binary(max_size=200))
def test_soap_bytes(data: bytes) -> None:
    run_reader(".xml", data)
