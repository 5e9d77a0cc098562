"""The one way msgavail parses XML: lxml with every door closed.

Used for documents from the network (CSDL ``$metadata``) and from users (SOAP ExecuteMultiple
requests): no entity resolution, no DTD loading or validation, no network access, no huge-tree
mode (libxml2's own limits on depth and size stay on), comments and processing instructions
dropped. lxml is imported lazily so commands that read no XML never load it.
"""

from __future__ import annotations

import typing as t


def hardened_parser() -> t.Any:
    """A fresh ``lxml.etree.XMLParser`` that resolves nothing and fetches nothing."""
    from lxml import etree  # type: ignore[import-untyped, unused-ignore]

    return etree.XMLParser(
        resolve_entities=False,
        no_network=True,
        load_dtd=False,
        dtd_validation=False,
        huge_tree=False,
        remove_comments=True,
        remove_pis=True,
    )
