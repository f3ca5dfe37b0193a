"""docker-compose.s3.yml (the stack with MinIO as the media store), checked statically like the
main Compose file: merged over it, it must still follow the Compose schema, name only real settings,
create the bucket the settings name, and leave api, worker and nginx without a shared media volume."""

from __future__ import annotations

import shlex
from pathlib import Path
from typing import Any

import yaml

from robian_media.media.nginx_conf import Address, NginxLayout, render_nginx_conf
from robian_media.settings import Settings
from tests.deploy.compose import REPO, compose, schema_errors, setting_variables

OVERRIDE = REPO / "docker-compose.s3.yml"


class ComposeLoader(yaml.SafeLoader):
    """Compose's own tags: ``!reset`` (empty the base value) and ``!override`` (replace it)."""


ComposeLoader.add_constructor("!reset", lambda loader, node: None)
ComposeLoader.add_constructor(
    "!override",
    lambda loader, node: ("override", loader.construct_sequence(node)),  # type: ignore[arg-type]
)


def merged() -> dict[str, Any]:
    """The base file with the override applied as Compose does for the keys it uses."""
    base = compose()
    extra = yaml.load(OVERRIDE.read_text(), Loader=ComposeLoader)  # a SafeLoader subclass
    for name, svc in extra["services"].items():
        target = base["services"].setdefault(name, {})
        for key, value in svc.items():
            if value is None:
                target.pop(key, None)  # !reset
            elif isinstance(value, tuple):
                target[key] = value[1]  # !override
            elif isinstance(value, dict) and isinstance(target.get(key), dict):
                target[key] = {**target[key], **value}
            else:
                target[key] = value
    base["volumes"] = {**base["volumes"], **extra.get("volumes", {})}
    return base


def test_the_merged_stack_follows_the_compose_specification() -> None:
    assert schema_errors(merged()) == []


def test_robian_services_use_the_s3_store_and_share_no_media_volume() -> None:
    services = merged()["services"]
    known = setting_variables()
    for name in ("migrate", "api", "worker", "nginx-config"):
        env = services[name]["environment"]
        assert env["ROBIAN_MEDIA_STORE"].startswith("s3://"), name
        assert {k for k in env if k.startswith(("ROBIAN_", "AWS_"))} <= known, name
    for name in ("api", "worker", "nginx"):
        assert not any(m.startswith("media:") for m in services[name].get("volumes", [])), name


def test_the_bucket_the_settings_name_is_created_and_its_prefix_readable(tmp_path: Path) -> None:
    services = merged()["services"]
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
