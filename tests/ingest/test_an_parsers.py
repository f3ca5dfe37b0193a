"""The Assemblée nationale formats, read from the sample fixtures as published (tests/fixtures/an)."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path

import pytest

from robian_media.ingest.sources.an_acteurs import parse_acteur, parse_organe
from robian_media.ingest.sources.an_compte_rendu import parse_compte_rendu
from robian_media.ingest.sources.an_portal import (
    parse_data_nvs,
    parse_timeline,
    portal_chapters,
    portal_video,
)
from robian_media.jobs.errors import InvalidSourceData, UnsupportedSource

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures" / "an"
HOSTS = ["videos.assemblee-nationale.fr"]
TOPIC = "Proposition de loi visant à renforcer l'accès aux soins de proximité"


def read(name: str) -> bytes:
    return (FIXTURES / name).read_bytes()


@pytest.mark.parametrize(
    "url",
    [
        "https://videos.assemblee-nationale.fr/video.6420_5f1c2a9be03d4",
        "https://videos.assemblee-nationale.fr/video.6420_5f1c2a9be03d4.seance-publique-du-10-mars?timecode=4000",
        "https://VIDEOS.assemblee-nationale.fr/Datas/an/6420_5f1c2a9be03d4/content/data.nvs",
    ],
)
def test_portal_urls_lead_to_their_data_files(url: str) -> None:
    video = portal_video(url, HOSTS)
    assert video is not None
    base = "https://videos.assemblee-nationale.fr"
    assert video.page_url == f"{base}/video.6420_5f1c2a9be03d4"
    assert video.data_url == f"{base}/Datas/an/6420_5f1c2a9be03d4/content/data.nvs"
    assert video.timeline_url == f"{base}/Datas/an/6420_5f1c2a9be03d4/content/finalplayer.nvs"


def test_other_urls_are_not_portal_videos() -> None:
    assert portal_video("https://example.org/video.6420_5f1c2a9be03d4", HOSTS) is None
    assert portal_video("https://videos.assemblee-nationale.fr/live", HOSTS) is None


def test_portal_chapters_join_data_nvs_and_finalplayer_on_chapter_ids() -> None:
    data = parse_data_nvs(read("data.nvs"))
    timeline = parse_timeline(read("finalplayer.nvs"))
    assert data.media_url().endswith("/6420_20260310145812.mp3")  # the audio rendition
    assert (data.body, data.meeting_id) == ("Séance publique", "RUANR5L17S2026IDS29950")
    assert timeline.starts_at == datetime(2026, 3, 10, 13, 58, 12, tzinfo=UTC)
    chapters = portal_chapters(data, timeline)
    assert [(c.start, c.speaker.id, c.speaker.name, c.title) for c in chapters] == [
        (108.0, "PA841101", "Claire Martin", "Ouverture de la séance"),
        (131.0, "PA841202", "Jean Dupont", TOPIC),
        (742.0, "PA841303", "Amina Benali", TOPIC),
        (1215.0, "PA841404", "Luc Moreau", TOPIC),
        (1655.0, "PA841101", "Claire Martin", "Levée de la séance"),
    ]


def test_a_live_portal_video_is_refused_with_a_pointer_to_live() -> None:
    data = parse_data_nvs(read("data.nvs").replace(b'status="vod"', b'status="live"'))
    with pytest.raises(UnsupportedSource, match="POST /api/v1/live"):
        data.media_url()


def test_compte_rendu_speaker_changes_become_chapters() -> None:
    cr = parse_compte_rendu(read("compte-rendu.xml"))
    assert (cr.uid, cr.seance_ref, cr.title) == (
        "CRSANR5L17S2026O1N150",
        "RUANR5L17S2026IDS29950",
        "Accès aux soins de proximité",
    )
    assert cr.starts_at is not None and cr.starts_at.isoformat() == "2026-03-10T15:00:00+01:00"
    # "Mme la présidente" is named from presidentSeance; the interruption (415.80) and Dupont's
    # second paragraph (410.10) open no chapter; the applause has no speaker
    assert [(c.start, c.speaker.id, c.speaker.name, c.title) for c in cr.chapters] == [
        (109.2, "PA841101", "Claire Martin", "Ouverture de la séance"),
        (132.54, "PA841202", "Jean Dupont", "Accès aux soins de proximité"),
        (743.1, "PA841303", "Amina Benali", "Accès aux soins de proximité"),
        (1216.4, "PA841101", "Claire Martin", "Accès aux soins de proximité"),
        (1220.05, "PA841404", "Luc Moreau", "Accès aux soins de proximité"),
        (1655.3, "PA841101", "Claire Martin", "Fin de la séance"),
    ]


def test_acteurs_and_organes_give_names_and_groups() -> None:
    acteurs = {a.uid: a for a in (parse_acteur(p.read_bytes()) for p in FIXTURES.glob("acteur-*.xml"))}
    assert {uid: (a.name, a.group_ref) for uid, a in acteurs.items()} == {
        "PA841101": ("Claire Martin", "PO845402"),
        "PA841202": ("Jean Dupont", "PO845401"),
        "PA841303": ("Amina Benali", "PO845401"),
        "PA841404": ("Luc Moreau", "PO845403"),
    }
    organe = parse_organe(read("organe-PO845401.xml"))
    assert (organe.uid, organe.name, organe.abbrev) == (
        "PO845401",
        "Groupe Exemple démocrate et social",
        "EXDS",
    )


def test_the_json_twin_of_an_acteur_is_read_too() -> None:
    document = {
        "acteur": {
            "uid": {"@xsi:type": "IdActeur_type", "#text": "PA841202"},
            "etatCivil": {"ident": {"civ": "M.", "prenom": "Jean", "nom": "Dupont"}},
            "mandats": {
                "mandat": [
                    {"typeOrgane": "ASSEMBLEE", "dateDebut": "2024-07-07",
                     "organes": {"organeRef": "PO838901"}},
                    {"typeOrgane": "GP", "dateDebut": "2022-06-28", "dateFin": "2024-06-09",
                     "organes": {"organeRef": "PO800000"}},
                    {"typeOrgane": "GP", "dateDebut": "2024-07-18", "dateFin": None,
                     "organes": {"organeRef": "PO845401"}},
                ]
            },
        }
    }  # fmt: skip
    acteur = parse_acteur(json.dumps(document).encode())
    assert (acteur.uid, acteur.name, acteur.group_ref) == ("PA841202", "Jean Dupont", "PO845401")


@pytest.mark.parametrize(
    "document",
    [
        b'<?xml version="1.0"?><!DOCTYPE lolz [<!ENTITY lol "lol"><!ENTITY lol2 "&lol;&lol;">]>'
        b"<data>&lol2;</data>",
        b'<?xml version="1.0"?><!DOCTYPE data SYSTEM "file:///etc/passwd"><data/>',
        b"<data><files>",
    ],
)
def test_unsafe_or_broken_xml_is_refused(document: bytes) -> None:
    with pytest.raises(InvalidSourceData):
        parse_data_nvs(document)


BILLION_LAUGHS = (
    '<?xml version="1.0" encoding="UTF-16"?><!DOCTYPE d [<!ENTITY a "aaaaaaaaaa">'
    '<!ENTITY b "&a;&a;&a;&a;&a;&a;&a;&a;&a;&a;"><!ENTITY c "&b;&b;&b;&b;&b;&b;&b;&b;&b;&b;">]>'
    "<compteRendu><contenu><paragraphe>&c;</paragraphe></contenu></compteRendu>"
)


def test_a_dtd_is_refused_in_any_encoding() -> None:
    """In UTF-16 the raw bytes hold no b"<!DOCTYPE": expat used to expand the entities (issue #22, item 9)."""
    document = BILLION_LAUGHS.encode("utf-16")
    assert b"<!DOCTYPE" not in document
    for parse in (parse_data_nvs, parse_compte_rendu):
        with pytest.raises(InvalidSourceData, match="DTD"):
            parse(document)
    # an encoding expat cannot read at all is refused too, not a crash
    with pytest.raises(InvalidSourceData, match="not well-formed"):
        parse_compte_rendu(BILLION_LAUGHS.replace("UTF-16", "UTF-32").encode("utf-32"))
