"""docker-compose.yml's media store, checked statically: MinIO with its bucket made at start, the s3
store by default for every robian-media service, no media volume shared by api, worker and nginx, and
no secret committed (the credentials come from the environment, required)."""

from __future__ import annotations

import re
import shlex
from pathlib import Path

from robian_media.media.nginx_conf import Address, NginxLayout, render_nginx_conf
from robian_media.settings import Settings
from tests.deploy.compose import COMPOSE_FILE, compose, setting_variables

# ${NAME:?message}: Compose refuses to start while NAME is unset
REQUIRED = re.compile(r"^\$\{(?P<name>[A-Z_]+):\?[^}]+\}$")


def test_robian_services_use_the_s3_store_and_share_no_media_volume() -> None:
    services = compose()["services"]
    known = setting_variables()
    for name in ("migrate", "api", "worker", "nginx-config", "edge-metrics"):
        env = services[name]["environment"]
        assert env["ROBIAN_MEDIA_STORE"].startswith("s3://"), name
        assert {k for k in env if k.startswith(("ROBIAN_", "AWS_"))} <= known, name
    for name in ("api", "worker", "nginx"):
        assert not any(m.startswith("media:") for m in services[name].get("volumes", [])), name


def test_the_bucket_the_settings_name_is_created_and_its_prefix_readable(tmp_path: Path) -> None:
    services = compose()["services"]
    env = services["api"]["environment"]
    names = ("ROBIAN_MEDIA_STORE", "ROBIAN_S3_ENDPOINT_URL", "ROBIAN_S3_REGION")
    values = {name.removeprefix("ROBIAN_").lower(): env[name] for name in names}
    settings = Settings(_env_file=None, data_dir=tmp_path, **values)
    assert settings.s3_location == ("robian-media", "hls")
    setup = shlex.split(services["minio-setup"]["entrypoint"][2].replace("$$", "$"))
    assert "store/robian-media" in setup  # mc mb
    assert setup[-1] == "store/robian-media/hls" and "anonymous" in setup  # public-read of the prefix
    assert services["migrate"]["depends_on"]["minio-setup"] == {"condition": "service_completed_successfully"}
    # nginx-conf with these settings proxies /hls/ to the bucket on the minio service
    layout = NginxLayout(listen=Address("0.0.0.0", 8000), upstreams=[Address("127.0.0.1", 8080)])
    conf = render_nginx_conf(settings, layout)
    assert "server minio:9000;" in conf
    assert "proxy_pass http://robian_store/robian-media/hls/$hls_path;" in conf


def test_the_store_credentials_are_required_never_committed() -> None:
    services = compose()["services"]
    for name in ("api", "worker", "nginx-config"):
        secret = services[name]["environment"]["AWS_SECRET_ACCESS_KEY"]
        assert REQUIRED.match(secret) and REQUIRED.match(secret)["name"] == "MINIO_ROOT_PASSWORD", name
    for name in ("minio", "minio-setup"):
        password = services[name]["environment"]["MINIO_ROOT_PASSWORD"]
        assert REQUIRED.match(password), name
    assert services["minio"]["healthcheck"]["test"][:2] == ["CMD", "mc"]
    assert services["minio-setup"]["depends_on"]["minio"] == {"condition": "service_healthy"}
    assert not (COMPOSE_FILE.parent / ".env").exists()
