"""A compte rendu of a sitting (Syceron XML): who spoke when, from ``<texte stime>`` and ``id_acteur``.

Each ``paragraphe`` with a speaker (``id_acteur`` = PA…) and a ``stime`` (seconds into the sitting's
video) is a piece of speech; consecutive pieces by the same speaker form one intervention, so a
speaker change opens a chapter. Interruptions (``code_grammaire`` INTERRUPTION_*) are shouted
remarks inside someone else's intervention and do not open one. Titles come from the enclosing
``point`` (its first ``texte``) or the opening/closing sections.

The same paragraphs are the sitting's words (DESIGN §8): one transcript paragraph per ``paragraphe``
with a ``stime``, its text plain (markup removed, ``<br/>`` a space, stage directions kept as
written); a paragraph without ``stime`` or without a speaker (a stage direction) is joined to the
one before it.
"""

from __future__ import annotations

import xml.etree.ElementTree as ET
from dataclasses import dataclass, field
from datetime import datetime
from zoneinfo import ZoneInfo

from packager.transcript import plain_spaces

from ...jobs.errors import InvalidSourceData
from ..chapter_input import ChapterIn, SpeakerIn
from ..transcript_input import TranscriptIn
from .an_acteurs import is_presiding_role, strip_civility
from .xml_safe import child_text, parse_xml, text_of

PARIS = ZoneInfo("Europe/Paris")
SECTION_TITLES = {"ouvertureSeance": "Ouverture de la séance", "finSeance": "Fin de la séance"}


@dataclass(slots=True)
class CompteRendu:
    uid: str | None
    seance_ref: str | None
    starts_at: datetime | None
    title: str | None
    chapters: list[ChapterIn] = field(default_factory=list)
    transcript: list[TranscriptIn] = field(default_factory=list)


@dataclass(slots=True)
class _Speech:
    start: float
    acteur: str
    name: str
    topic: str | None


def _session_start(value: str | None) -> datetime | None:
    """``dateSeance`` is YYYYMMDDHHMMSSmmm, Paris time."""
    if not value or len(value) < 14 or not value[:14].isdigit():
        return None
    try:
        return datetime.strptime(value[:14], "%Y%m%d%H%M%S").replace(tzinfo=PARIS)
    except ValueError:
        return None


def _stime(paragraph: ET.Element) -> float | None:
    for texte in paragraph.iter("texte"):
        value = texte.get("stime")
        if value:
            try:
                return float(value.replace(",", "."))
            except ValueError:
                return None
    return None


def _inline_text(element: ET.Element) -> str:
    """Text with inline markup (<italique>, <exposant>) dissolved and <br/> made a space."""
    parts = [element.text or ""]
    for child in element:
        parts.append(" " if child.tag == "br" else _inline_text(child))
        parts.append(child.tail or "")
    return "".join(parts)


def _paragraph_text(paragraph: ET.Element) -> str:
    return plain_spaces(" ".join(_inline_text(texte) for texte in paragraph.iter("texte")))


def _speaker_name(paragraph: ET.Element, president: str | None) -> str:
    orateur = paragraph.find("orateurs/orateur")
    name = (child_text(orateur, "nom") or "") if orateur is not None else ""
    if president and (paragraph.get("roledebat") == "president" or is_presiding_role(name)):
        return president
    return strip_civility(name)


def _speeches(contenu: ET.Element, president: str | None) -> list[_Speech]:
    speeches: list[_Speech] = []

    def walk(element: ET.Element, topic: str | None) -> None:
        for child in element:
            if child.tag == "paragraphe":
                acteur = (child.get("id_acteur") or "").strip()
                start = _stime(child)
                grammar = (child.get("code_grammaire") or "").upper()
                if acteur.startswith("PA") and start is not None and not grammar.startswith("INTERRUPTION"):
                    speeches.append(_Speech(start, acteur, _speaker_name(child, president), topic))
            elif child.tag == "point":
                heading = child.find("texte")
                walk(child, text_of(heading) or topic)
            elif child.tag in SECTION_TITLES:
                walk(child, SECTION_TITLES[child.tag])
            else:
                walk(child, topic)

    walk(contenu, None)
    return speeches


def _transcript(contenu: ET.Element, president: str | None) -> list[TranscriptIn]:
    paragraphs: list[TranscriptIn] = []
    pending = ""  # text met before any paragraph it could join
    for element in contenu.iter("paragraphe"):
        text = _paragraph_text(element)
        if not text:
            continue
        acteur = (element.get("id_acteur") or "").strip()
        name = _speaker_name(element, president)
        start = _stime(element)
        if start is None or not (name or acteur):
            if paragraphs:
                last = paragraphs[-1]
                paragraphs[-1] = last.model_copy(update={"text": f"{last.text} {text}"})
            else:
                pending = f"{pending} {text}".strip()
            continue
        speaker = SpeakerIn(id=acteur or None, name=name or acteur)
        paragraphs.append(TranscriptIn(start=start, speaker=speaker, text=f"{pending} {text}".strip()))
        pending = ""
    return paragraphs


def parse_compte_rendu(data: bytes) -> CompteRendu:
    root = parse_xml(data, "compte rendu")
    if root.tag != "compteRendu":
        raise InvalidSourceData(f"The compte rendu has root <{root.tag}>, not <compteRendu>.")
    contenu = root.find("contenu")
    if contenu is None:
        raise InvalidSourceData("The compte rendu has no <contenu>.")
    metadonnees = root.find("metadonnees")
    title = president = None
    if metadonnees is not None:
        title = child_text(metadonnees, ".//sommaire1/titreStruct/intitule")
        president = child_text(metadonnees, "presidentSeance")
    chapters: list[ChapterIn] = []
    president = strip_civility(president) if president else None
    speeches = _speeches(contenu, president)
    for speech in sorted(speeches, key=lambda s: s.start):
        if chapters and chapters[-1].speaker.id == speech.acteur:
            continue  # the same intervention goes on
        if chapters and speech.start <= chapters[-1].start:
            continue
        chapters.append(
            ChapterIn(
                start=speech.start,
                speaker=SpeakerIn(id=speech.acteur, name=speech.name or speech.acteur),
                title=speech.topic,
            )
        )
    if title is None:
        title = next((c.title for c in chapters if c.title and c.title not in SECTION_TITLES.values()), None)
    return CompteRendu(
        uid=child_text(root, "uid"),
        seance_ref=child_text(root, "seanceRef"),
        starts_at=_session_start(child_text(metadonnees, "dateSeance") if metadonnees is not None else None),
        title=title,
        chapters=chapters,
        transcript=_transcript(contenu, president),
    )
