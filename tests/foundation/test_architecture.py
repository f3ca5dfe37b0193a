"""Imports go one way (docs/architecture.md §6): features stand on the core, never the reverse.

- A core package (web, db, cache, ops, events, jobs, media) never imports a feature package (catalog,
  listeners, ingest, live, legacy, podcast): features register themselves with the core instead.
- No package imports the composition root (app, routes, cli): only it wires everything together.
  ``settings`` is the exception every package may read, and it imports nothing of ``robian_media``.
- ``packager`` never imports ``robian_media``.

Every import statement counts, wherever it stands: under ``TYPE_CHECKING``, inside a function.
"""

from __future__ import annotations

import ast
from collections.abc import Iterator
from pathlib import Path

import packager
import robian_media

SERVER = Path(robian_media.__file__).parent
PACKAGER = Path(packager.__file__).parent

CORE = frozenset({"web", "db", "cache", "ops", "events", "jobs", "media"})
FEATURES = frozenset({"catalog", "listeners", "ingest", "live", "legacy", "podcast"})
COMPOSITION_ROOT = frozenset({"app", "routes", "cli"})
# settings.py and the deprecated-name shim it reads (to be deleted whole next release)
SETTINGS = frozenset({"settings", "renamed_settings"})


def module_name(path: Path, root: Path) -> str:
    parts = [root.name, *path.relative_to(root).with_suffix("").parts]
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def imported(path: Path, root: Path) -> Iterator[tuple[int, str]]:
    """(line, module) of every import in ``path``; relative imports resolved, ``from m import x`` as
    ``m.x`` (x may be a submodule: a package is known by its first two parts anyway)."""
    module = module_name(path, root)
    package = module if path.name == "__init__.py" else module.rpartition(".")[0]
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"), filename=str(path))):
        if isinstance(node, ast.Import):
            for alias in node.names:
                yield node.lineno, alias.name
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                parent = package.split(".")[: len(package.split(".")) - node.level + 1]
                base = ".".join([*parent, base] if base else parent)
            for alias in node.names:
                yield node.lineno, f"{base}.{alias.name}"


def part_of(module: str) -> str | None:
    """The ``robian_media`` package or top module ``module`` belongs to (None: not ``robian_media``)."""
    top, _, rest = module.partition(".")
    return rest.partition(".")[0] if top == "robian_media" and rest else None


def sources(root: Path) -> list[Path]:
    return sorted(p for p in root.rglob("*.py") if "__pycache__" not in p.parts)


def test_every_part_of_the_server_is_classified() -> None:
    parts = {p.name if p.is_dir() else p.stem for p in SERVER.iterdir() if p.suffix == ".py" or p.is_dir()}
    parts -= {"__init__", "__pycache__", "static"}
    assert parts == CORE | FEATURES | COMPOSITION_ROOT | SETTINGS


def against_the_grain(own: str | None, used: str | None) -> bool:
    if used in COMPOSITION_ROOT:
        return True
    if own in SETTINGS:
        return used is not None and used not in SETTINGS
    return own in CORE and used in FEATURES


def test_the_core_never_imports_a_feature_nor_the_composition_root() -> None:
    offences = [
        f"{path.relative_to(SERVER.parent)}:{line} imports {target}"
        for path in sources(SERVER)
        if (own := part_of(module_name(path, SERVER))) not in COMPOSITION_ROOT
        for line, target in imported(path, SERVER)
        if against_the_grain(own, part_of(target))
    ]
    assert not offences, "imports against the grain:\n" + "\n".join(offences)


def test_the_packager_knows_nothing_of_the_server() -> None:
    offences = [
        f"{path.relative_to(PACKAGER.parent)}:{line} imports {target}"
        for path in sources(PACKAGER)
        for line, target in imported(path, PACKAGER)
        if target.partition(".")[0] == "robian_media"
    ]
    assert not offences, "the packager imports the server:\n" + "\n".join(offences)
