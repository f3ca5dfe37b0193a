"""Parsing XML from other sites without the classic traps.

Documents with a DTD are refused outright by defusedxml's parser (no entity expansion, internal or
external: the formats we read never declare one), whatever their encoding — a check of the raw bytes
for ``<!DOCTYPE`` missed the same document in UTF-16. Size is bounded before parsing, and namespaces
are dropped from tag names so the parsers read ``paragraphe`` whether or not a default namespace is
declared.
"""

from __future__ import annotations

import xml.etree.ElementTree as ET

from defusedxml import DefusedXmlException
from defusedxml.ElementTree import fromstring

from ...jobs.errors import InvalidSourceData

MAX_XML_BYTES = 32 << 20


def parse_xml(data: bytes, what: str, *, max_bytes: int = MAX_XML_BYTES) -> ET.Element:
    if len(data) > max_bytes:
        raise InvalidSourceData(f"The {what} is larger than {max_bytes} bytes.")
    try:
        root = fromstring(data, forbid_dtd=True, forbid_entities=True, forbid_external=True)
    except DefusedXmlException:
        raise InvalidSourceData(
            f"The {what} declares a DTD or entities; such documents are refused."
        ) from None
    except (ET.ParseError, ValueError) as exc:  # ValueError: an encoding expat cannot read (UTF-32)
        raise InvalidSourceData(f"The {what} is not well-formed XML: {exc}.") from None
    for element in root.iter():
        if isinstance(element.tag, str) and element.tag.startswith("{"):
            element.tag = element.tag.split("}", 1)[1]
        for name in [n for n in element.attrib if n.startswith("{")]:
            element.attrib[name.split("}", 1)[1]] = element.attrib.pop(name)
    return root


def text_of(element: ET.Element | None) -> str:
    """All text inside ``element`` (inline markup such as <italique> included), whitespace collapsed."""
    if element is None:
        return ""
    return " ".join("".join(element.itertext()).split())


def child_text(element: ET.Element, path: str) -> str | None:
    found = element.find(path)
    if found is None:
        return None
    value = text_of(found)
    return value or None
