"""Every setting is documented: in config/.env.example, and in the README's table (made from both)."""

from __future__ import annotations

from robian_media.settings import Settings
from tests.deploy.settings_table import descriptions, readme_table, render, variable


def test_every_setting_is_in_the_env_example_with_an_explanation() -> None:
    documented = descriptions()
    names = {variable(name) for name in Settings.model_fields}
    assert names - set(documented) == set(), "add them to config/.env.example"
    assert set(documented) - names == set(), "config/.env.example names settings that do not exist"
    assert all(documented[name] for name in names), [n for n in names if not documented[n]]


def test_the_readme_configuration_table_is_up_to_date() -> None:
    assert readme_table() == render(), "run: .venv/bin/python -m tests.deploy.settings_table --write"
