"""The shared XML parser resolves nothing and fetches nothing, even when handed a DTD."""

from __future__ import annotations

from lxml import etree

from metadata.xmlsafe import hardened_parser


def test_external_entity_is_not_read() -> None:
    doc = etree.fromstring(
        b'<!DOCTYPE r [<!ENTITY e SYSTEM "file:///etc/hostname">]><r>&e;</r>', hardened_parser()
    )
    text = "".join(doc.itertext())
    assert text in ("", "&e;")  # left unresolved: the file was never read


def test_entity_expansion_bomb_is_not_expanded() -> None:
    levels = ['<!ENTITY a0 "lol">'] + [
        f'<!ENTITY a{i} "{("&a" + str(i - 1) + ";") * 10}">' for i in range(1, 10)
    ]
    bomb = f"<!DOCTYPE r [{''.join(levels)}]><r>&a9;</r>".encode()
    try:
        doc = etree.fromstring(bomb, hardened_parser())
    except etree.XMLSyntaxError as exc:  # libxml2 may refuse the amplification outright
        assert "amplification" in str(exc)
    else:
        assert len("".join(doc.itertext())) < 100  # 10**9 "lol"s were never produced


def test_each_call_gets_a_fresh_parser() -> None:
    assert hardened_parser() is not hardened_parser()
