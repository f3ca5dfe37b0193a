"""AN open data (AMO) about people and bodies: an acteur's name and group, an organe's names.

Both the XML export and its JSON twin (``{"acteur": {...}}``, ``uid`` possibly ``{"#text": …}``) are
read. An acteur's group is the organe of their current ``GP`` mandate (no end date, else the latest).
"""

from __future__ import annotations

import json
import re
import xml.etree.ElementTree as ET
from dataclasses import dataclass
from typing import Any

from ...jobs.errors import InvalidSourceData
from .xml_safe import child_text, parse_xml

CIVILITY = re.compile(r"^(?:M\.|Mme|Mlle|Mmes|MM\.)\s+")
PRESIDING = re.compile(r"^(?:M\.|Mme)\s+(?:le|la)\s+(?:pr[ée]sident|pr[ée]sidente)$", re.IGNORECASE)


def strip_civility(name: str) -> str:
    return CIVILITY.sub("", " ".join(name.split()))


def is_presiding_role(name: str) -> bool:
    """ "Mme la présidente": a role, not a name."""
    return bool(PRESIDING.match(" ".join(name.split())))


@dataclass(frozen=True, slots=True)
class Acteur:
    uid: str
    name: str
    group_ref: str | None


@dataclass(frozen=True, slots=True)
class Organe:
    uid: str
    name: str
    abbrev: str | None


def _is_json(data: bytes) -> bool:
    return data.lstrip()[:1] in (b"{", b"[")


def _json(data: bytes, what: str) -> dict[str, Any]:
    try:
        value = json.loads(data)
    except ValueError as exc:
        raise InvalidSourceData(f"The {what} is not valid JSON: {exc}.") from None
    if not isinstance(value, dict):
        raise InvalidSourceData(f"The {what} is not a JSON object.")
    return value


def _text(value: Any) -> str | None:
    if isinstance(value, dict):
        value = value.get("#text")
    if value is None or isinstance(value, dict | list):
        return None
    text = str(value).strip()
    return text or None


def _as_list(value: Any) -> list[Any]:
    if value is None:
        return []
    return value if isinstance(value, list) else [value]


def _pick_group(mandates: list[tuple[str | None, str | None, str | None]]) -> str | None:
    """(typeOrgane, dateDebut, organeRef) of mandates → the organe of the latest group mandate."""
    groups = [(start or "", ref) for kind, start, ref in mandates if kind == "GP" and ref]
    return max(groups)[1] if groups else None


def parse_acteur(data: bytes) -> Acteur:
    if _is_json(data):
        acteur = _json(data, "acteur").get("acteur") or {}
        uid = _text(acteur.get("uid"))
        ident = (acteur.get("etatCivil") or {}).get("ident") or {}
        first, last = _text(ident.get("prenom")), _text(ident.get("nom"))
        mandates = [
            (
                _text(m.get("typeOrgane")),
                _text(m.get("dateDebut")),
                _text((m.get("organes") or {}).get("organeRef")),
                _text(m.get("dateFin")),
            )
            for m in _as_list((acteur.get("mandats") or {}).get("mandat"))
            if isinstance(m, dict)
        ]
    else:
        root = parse_xml(data, "acteur", max_bytes=4 << 20)
        uid = child_text(root, "uid")
        first, last = child_text(root, "etatCivil/ident/prenom"), child_text(root, "etatCivil/ident/nom")
        mandates = [_xml_mandate(m) for m in root.iterfind("mandats/mandat")]
    if not uid or not (first or last):
        raise InvalidSourceData("The acteur has no uid or no name.")
    open_mandates = [(kind, start, ref) for kind, start, ref, end in mandates if not end]
    group = _pick_group(open_mandates) or _pick_group([(k, s, r) for k, s, r, _ in mandates])
    return Acteur(uid=uid, name=" ".join(p for p in (first, last) if p), group_ref=group)


def _xml_mandate(mandate: ET.Element) -> tuple[str | None, str | None, str | None, str | None]:
    return (
        child_text(mandate, "typeOrgane"),
        child_text(mandate, "dateDebut"),
        child_text(mandate, "organes/organeRef"),
        child_text(mandate, "dateFin"),
    )


def parse_organe(data: bytes) -> Organe:
    if _is_json(data):
        organe = _json(data, "organe").get("organe") or {}
        uid, name = _text(organe.get("uid")), _text(organe.get("libelle"))
        abbrev = _text(organe.get("libelleAbrev")) or _text(organe.get("libelleAbrege"))
    else:
        root = parse_xml(data, "organe", max_bytes=4 << 20)
        uid, name = child_text(root, "uid"), child_text(root, "libelle")
        abbrev = child_text(root, "libelleAbrev") or child_text(root, "libelleAbrege")
    if not uid or not name:
        raise InvalidSourceData("The organe has no uid or no libelle.")
    return Organe(uid=uid, name=name, abbrev=abbrev)
