"""`robian-media nginx-conf`: a configuration nginx accepts, for the current settings and arguments."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from robian_media.cli import main
from robian_media.media.nginx_conf import Address, NginxLayout, parse_address, render_nginx_conf
from robian_media.settings import Settings
from tests.services import NginxServer


def _cli(*args: str, env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    """The installed command, in its own process."""
    return subprocess.run(
        [sys.executable, "-m", "robian_media.cli", "nginx-conf", *args],
        capture_output=True,
        text=True,
        env={**os.environ, **env},
        timeout=60,
    )


@pytest.fixture
def cli(monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]) -> Any:
    """The same command in this process (quicker): ``cli(*args, env=…)`` → (exit code, stdout, stderr)."""

    def run(*args: str, env: dict[str, str]) -> tuple[int, str, str]:
        for name, value in env.items():
            monkeypatch.setenv(name, value)
        try:
            code = main(["nginx-conf", *args])
        except SystemExit as exc:
            code = exc.code if isinstance(exc.code, int) else 1
            if isinstance(exc.code, str):
                print(exc.code, file=sys.stderr)
        captured = capsys.readouterr()
        return code, captured.out, captured.err

    return run


def _env(tmp_path: Path, **extra: str) -> dict[str, str]:
    media = tmp_path / "media"
    media.mkdir(exist_ok=True)
    env = {"ROBIAN_DATA_DIR": str(tmp_path / "data"), "ROBIAN_MEDIA_ROOT": str(media), **extra}
    if os.geteuid() == 0:
        env["ROBIAN_NGINX_USER"] = "root"
    return env


def test_rendered_origin_and_edge_pass_nginx_t(tmp_path: Path) -> None:
    prefix = tmp_path / "prefix"
    prefix.mkdir()
    result = _cli(
        *("--listen", "127.0.0.1:18080", "--edge-listen", "127.0.0.1:18081"),
        *("--upstream", "127.0.0.1:8080", "--upstream", "127.0.0.1:8081", "--prefix", str(prefix)),
        env=_env(tmp_path, ROBIAN_NGINX_METRICS_ALLOW="10.1.0.0/16", ROBIAN_NGINX_API_RATE="5"),
    )
    assert result.returncode == 0, result.stderr
    config = prefix / "nginx.conf"
    config.write_text(result.stdout)
    check = NginxServer(config, prefix, []).check()
    assert check.returncode == 0, check.stderr
    assert "test is successful" in check.stderr
    text = result.stdout
    assert f'pid "{prefix}/nginx.pid";' in text
    assert "server 127.0.0.1:8081 max_fails=3 fail_timeout=10s;" in text
    assert "allow 10.1.0.0/16;" in text
    assert "rate=5r/s" in text
    assert "proxy_cache_lock on;" in text


def test_without_prefix_runtime_files_follow_nginx_p(tmp_path: Path, cli: Any) -> None:
    """No --prefix: relative paths, resolved against whatever `nginx -p DIR` says at run time."""
    code, out, err = cli("--listen", "[::1]:18080", "--upstream", "localhost:8080", env=_env(tmp_path))
    assert code == 0, err
    assert 'pid "nginx.pid";' in out
    assert "listen [::1]:18080;" in out
    assert "proxy_cache_path" not in out  # no edge asked for
    run_dir = tmp_path / "run"
    run_dir.mkdir()
    config = tmp_path / "nginx.conf"
    config.write_text(out)
    check = NginxServer(config, run_dir, []).check()
    assert check.returncode == 0, check.stderr


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--listen", "127.0.0.1", "--upstream", "127.0.0.1:8080"], "is not HOST:PORT"),
        (["--listen", "127.0.0.1:99999", "--upstream", "127.0.0.1:8080"], "port must be 1-65535"),
        (["--listen", "127.0.0.1:80", "--upstream", "bad host:80"], "neither an IP address nor a host name"),
        (["--listen", "127.0.0.1:80"], "--upstream"),
        (
            ["--listen", "127.0.0.1:80", "--edge-listen", "127.0.0.1:80", "--upstream", "127.0.0.1:8080"],
            "--edge-listen must differ from --listen",
        ),
        (
            ["--listen", "127.0.0.1:80", "--edge-origin", "10.0.0.2:80", "--upstream", "127.0.0.1:8080"],
            "--edge-origin needs --edge-listen",
        ),
    ],
)
def test_bad_arguments_are_refused_with_a_reason(
    tmp_path: Path, cli: Any, args: list[str], message: str
) -> None:
    code, out, err = cli(*args, env=_env(tmp_path))
    assert code != 0
    assert message in err
    assert out == ""


def test_a_media_root_nginx_cannot_quote_is_refused(tmp_path: Path, cli: Any) -> None:
    code, out, err = cli(
        "--listen", "127.0.0.1:80", "--upstream", "127.0.0.1:8080",
        env=_env(tmp_path, ROBIAN_MEDIA_ROOT=str(tmp_path / "my$media")),
    )  # fmt: skip
    assert code != 0
    assert "media root" in err
    assert "'$'" in err
    assert out == ""


def test_bad_nginx_settings_are_refused(tmp_path: Path, cli: Any) -> None:
    code, _, err = cli(
        "--listen", "127.0.0.1:80", "--upstream", "127.0.0.1:8080",
        env=_env(tmp_path, ROBIAN_NGINX_METRICS_ALLOW="10.0.0.0/33"),
    )  # fmt: skip
    assert code != 0
    assert "ROBIAN_NGINX_METRICS_ALLOW" in err


def test_a_media_root_with_spaces_works(tmp_path: Path) -> None:
    """macOS's default data dir is under "Application Support"."""
    media = tmp_path / "Application Support" / "media"
    media.mkdir(parents=True)
    settings = Settings(_env_file=None, data_dir=tmp_path / "data", media_root_dir=media)
    layout = NginxLayout(
        listen=Address("127.0.0.1", 18080), upstreams=[Address("127.0.0.1", 8080)], prefix=tmp_path
    )
    config = tmp_path / "nginx.conf"
    config.write_text(render_nginx_conf(settings, layout))
    check = NginxServer(config, tmp_path, []).check()
    assert check.returncode == 0, check.stderr


def test_edge_believes_the_client_address_only_from_its_own_hop() -> None:
    settings = Settings(_env_file=None, media_root_dir=Path("/srv/media"))
    upstreams = [Address("127.0.0.1", 8080)]
    alone = render_nginx_conf(settings, NginxLayout(listen=parse_address("0.0.0.0:80"), upstreams=upstreams))
    assert "set_real_ip_from" not in alone
    with_edge = render_nginx_conf(
        settings,
        NginxLayout(listen=parse_address("0.0.0.0:80"), upstreams=upstreams, edge_listen=Address("::", 81)),
    )
    # the edge reaches a wildcard-listening origin over loopback, and only that hop is believed
    assert "set_real_ip_from 127.0.0.1;" in with_edge
    assert "server 127.0.0.1:80;" in with_edge
    assert "listen [::]:81;" in with_edge
