"""Settings renamed to end in _SECONDS still read their old variable for one release, with a warning."""

from __future__ import annotations

from pathlib import Path

import pytest

from robian_media.cli import main
from robian_media.renamed_settings import RENAMED_VARIABLES
from robian_media.settings import Settings
from tests.deploy.compose import REPO


def test_the_old_name_still_works_and_warns(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("ROBIAN_PAIRING_CODE_TTL_S", "120")
    with pytest.warns(FutureWarning, match="set ROBIAN_PAIRING_CODE_TTL_SECONDS instead") as caught:
        settings = Settings(_env_file=None)
    assert settings.pairing_code_ttl_seconds == 120
    assert len(caught) == 1


def test_the_old_name_in_a_dot_env_file_still_works_and_warns(tmp_path: Path) -> None:
    env_file = tmp_path / ".env"
    env_file.write_text("ROBIAN_LISTENERS_NOW_WINDOW_S=60\n")
    with pytest.warns(FutureWarning, match="set ROBIAN_LISTENERS_NOW_WINDOW_SECONDS instead"):
        settings = Settings(_env_file=env_file)
    assert settings.listeners_now_window_seconds == 60


def test_an_old_name_in_both_the_environment_and_dot_env_warns_once(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    env_file = tmp_path / ".env"
    env_file.write_text("ROBIAN_PAIRING_CODE_TTL_S=90\n")
    monkeypatch.setenv("ROBIAN_PAIRING_CODE_TTL_S", "120")
    with pytest.warns(FutureWarning, match="ROBIAN_PAIRING_CODE_TTL_S is deprecated") as caught:
        assert Settings(_env_file=env_file).pairing_code_ttl_seconds == 120  # the environment wins
    assert len(caught) == 1


def test_the_new_name_wins_and_alone_does_not_warn(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("ROBIAN_PROGRESS_MAX_CLOCK_SKEW_SECONDS", "30")
    assert Settings(_env_file=None).progress_max_clock_skew_seconds == 30  # filterwarnings = error
    monkeypatch.setenv("ROBIAN_PROGRESS_MAX_CLOCK_SKEW_S", "90")
    with pytest.warns(FutureWarning, match="ROBIAN_PROGRESS_MAX_CLOCK_SKEW_S is deprecated"):
        assert Settings(_env_file=None).progress_max_clock_skew_seconds == 30


def test_the_command_line_says_it_in_one_line_at_start(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("ROBIAN_DATA_DIR", str(tmp_path))
    monkeypatch.setenv("ROBIAN_PAIRING_ATTEMPT_WINDOW_S", "5")
    monkeypatch.chdir(tmp_path)  # no .env
    assert main(["nginx-conf", "--listen", "127.0.0.1:18080", "--upstream", "127.0.0.1:8080"]) == 0
    err = capsys.readouterr().err
    assert err.splitlines() == [
        "robian-media: ROBIAN_PAIRING_ATTEMPT_WINDOW_S is deprecated: "
        "set ROBIAN_PAIRING_ATTEMPT_WINDOW_SECONDS instead (the old name goes next release)"
    ]


def test_a_bad_value_under_the_old_name_is_reported_under_the_new_one(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("ROBIAN_DATA_DIR", str(tmp_path))
    monkeypatch.setenv("ROBIAN_PAIRING_CODE_TTL_S", "1")
    monkeypatch.chdir(tmp_path)
    with pytest.raises(SystemExit, match="ROBIAN_PAIRING_CODE_TTL_SECONDS: Input should be greater"):
        main(["migrate"])


def test_the_old_names_are_documented() -> None:
    readme = (REPO / "README.md").read_text()
    env_example = (REPO / "config/.env.example").read_text()
    for old, new in RENAMED_VARIABLES.items():
        assert f"`{old}` → `{new}`" in readme
        assert old in env_example
