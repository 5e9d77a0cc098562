"""The one way msgavail parses XML: lxml with every door closed, and no DTD at all.

Used for documents from the network (CSDL ``$metadata``) and from users (SOAP ExecuteMultiple
requests): no entity resolution, no DTD loading or validation, no network access, no huge-tree
mode (libxml2's own limits on depth, size and entity amplification stay on), comments and
processing instructions dropped. lxml is imported lazily so commands that read no XML never
load it.

``parse`` also refuses any document that has a document type declaration: neither format has
one, and a DTD is where entity bombs and external entities live. The decision is the parser's,
made after it has decoded the document, so it holds for every encoding libxml2 reads (UTF-8,
UTF-16 and UTF-32 with or without a byte order mark, declared 8-bit encodings); a byte pattern
such as ``<!DOCTYPE`` only ever sees UTF-8 and its relatives.
"""

from __future__ import annotations

import codecs
import typing as t

_OPTIONS: t.Mapping[str, bool] = {
    "resolve_entities": False,
    "no_network": True,
    "load_dtd": False,
    "dtd_validation": False,
    "huge_tree": False,
    "remove_comments": True,
    "remove_pis": True,
}


class DoctypeError(ValueError):
    """The document has a DOCTYPE (a DTD); ``line`` and ``column`` say where, when known."""

    def __init__(self, line: int, column: int) -> None:
        self.line = line
        self.column = column
        super().__init__(
            "a DOCTYPE (document type declaration) is not allowed: refused to protect against "
            "entity expansion and external entities"
        )


def hardened_parser() -> t.Any:
    """A fresh ``lxml.etree.XMLParser`` that resolves nothing and fetches nothing."""
    from lxml import etree  # type: ignore[import-untyped, unused-ignore]

    return etree.XMLParser(**_OPTIONS)


class _DoctypeSeen(Exception):
    pass


class _DoctypeProbe:
    """A parser target that stops at the document type declaration, before its contents."""

    def doctype(self, *_: object) -> None:
        raise _DoctypeSeen

    def close(self) -> None:
        return None


def has_doctype(raw: bytes) -> bool:
    """True when the parser meets a DOCTYPE before any syntax error in ``raw``."""
    from lxml import etree  # type: ignore[import-untyped, unused-ignore]

    try:
        etree.fromstring(raw, etree.XMLParser(target=_DoctypeProbe(), **_OPTIONS))
    except _DoctypeSeen:
        return True
    except etree.XMLSyntaxError:
        return False
    return False


def parse(raw: bytes) -> t.Any:
    """The root element of ``raw``, parsed hardened; raises DoctypeError for a document with
    a DTD (in any encoding) and lxml's XMLSyntaxError for one that is not well-formed."""
    from lxml import etree  # type: ignore[import-untyped, unused-ignore]

    try:
        root = etree.fromstring(raw, hardened_parser())
    except etree.XMLSyntaxError:
        # libxml2 refuses some bombs itself ("entity amplification"); say what the document
        # is refused for, the DTD, whenever the parser met one before the error.
        if has_doctype(raw):
            raise DoctypeError(*_doctype_position(raw, None)) from None
        raise
    docinfo = root.getroottree().docinfo
    if docinfo.doctype or docinfo.internalDTD is not None or docinfo.externalDTD is not None:
        raise DoctypeError(*_doctype_position(raw, docinfo.encoding))
    return root


def _doctype_position(raw: bytes, encoding: str | None) -> tuple[int, int]:
    """Where the DOCTYPE is, for the message only (the parser has already decided)."""
    text = decode(raw, encoding)
    at = text.find("<!DOCTYPE")
    if at < 0:
        return 1, 1
    return text.count("\n", 0, at) + 1, at - (text.rfind("\n", 0, at) + 1) + 1


_BOMS = (
    (codecs.BOM_UTF32_LE, "utf-32"),
    (codecs.BOM_UTF32_BE, "utf-32"),
    (codecs.BOM_UTF8, "utf-8-sig"),
    (codecs.BOM_UTF16_LE, "utf-16"),
    (codecs.BOM_UTF16_BE, "utf-16"),
)


# Without a byte order mark, how "<" starts the document tells the encoding family (XML 1.0,
# appendix F: the detection libxml2 itself does).
_FIRST_LT = (
    (b"<\x00\x00\x00", "utf-32-le"),
    (b"\x00\x00\x00<", "utf-32-be"),
    (b"<\x00", "utf-16-le"),
    (b"\x00<", "utf-16-be"),
)


def decode(raw: bytes, encoding: str | None = None) -> str:
    """``raw`` as text for positions and columns: in the encoding the parser reported, else
    the one its byte order mark or its first "<" names, else UTF-8 (bad bytes replaced)."""
    codecs_to_try = [encoding] if encoding else []
    codecs_to_try += [name for bom, name in _BOMS if raw.startswith(bom)][:1]
    codecs_to_try += [name for lt, name in _FIRST_LT if raw.startswith(lt)][:1]
    for codec in codecs_to_try:
        try:
            text = raw.decode(codec)
        except (LookupError, UnicodeDecodeError):
            continue
        return text[1:] if text.startswith("\ufeff") else text
    return raw.decode("utf-8", "replace")
