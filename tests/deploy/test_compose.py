"""docker-compose.yml and the Dockerfile, checked statically: no Docker engine runs on CI machines.

The file must be valid against the Compose specification's schema, and everything it names must
exist: robian-media subcommands and options, ROBIAN_* settings, routes its healthchecks probe,
config files it mounts, services it depends on or scrapes."""

from __future__ import annotations

import ipaddress
import json
import re
from typing import Any
from urllib.parse import urlsplit

import pytest
import yaml

from robian_media.cli import build_parser
from robian_media.settings import Settings
from robian_media.web.client_address import ClientAddresses
from tests.deploy.compose import (
    OUR_IMAGE,
    REPO,
    compose,
    dockerfile_stages,
    robian_argv,
    schema_errors,
    setting_variables,
)

# one-shot services: they run, then exit
ONE_SHOT = {"migrate", "nginx-config", "minio-setup"}


def parse_cli(argv: list[str]) -> Any:
    try:
        return build_parser().parse_args(argv)
    except SystemExit:
        pytest.fail(f"robian-media does not accept: {' '.join(argv)}")


def robian_services() -> dict[str, dict[str, Any]]:
    return {name: svc for name, svc in compose()["services"].items() if svc.get("image") == OUR_IMAGE}


def test_the_compose_file_follows_the_compose_specification() -> None:
    assert schema_errors(compose()) == []


def test_the_stack_has_every_part_the_issue_asks_for() -> None:
    services = compose()["services"]
    assert {"api", "worker", "postgres", "redis", "minio", "nginx", "prometheus", "grafana"} <= set(services)
    for name in ("prometheus", "grafana", "edge-metrics"):
        assert services[name]["profiles"] == ["monitoring"]
    for name, svc in services.items():
        assert "image" in svc or "build" in svc, name
    # our image is built once (by migrate, which runs first) and reused by the others
    builders = [name for name, svc in services.items() if "build" in svc]
    assert builders == ["migrate"] and services["migrate"]["image"] == OUR_IMAGE


def test_commands_are_robian_media_subcommands_with_valid_options() -> None:
    for name, svc in robian_services().items():
        argv = robian_argv(svc["command"])
        assert argv is not None, f"{name} runs something else than robian-media: {svc['command']}"
        parse_cli(argv)


def test_environment_names_are_settings() -> None:
    known = setting_variables()
    for name, svc in compose()["services"].items():
        env = svc.get("environment") or {}
        unknown = {key for key in env if key.startswith("ROBIAN_")} - known
        assert not unknown, f"{name}: no such setting {unknown}"
    for line in (REPO / "Dockerfile").read_text().splitlines():
        for key in re.findall(r"\b(ROBIAN_[A-Z_]+)=", line):
            assert key in known, f"Dockerfile: no such setting {key}"


def _listen_port(svc: dict[str, Any]) -> int:
    """The port a robian-media service listens on, from its options or settings."""
    args = parse_cli(robian_argv(svc["command"]) or [])
    if args.command == "worker":
        return int(svc["environment"]["ROBIAN_WORKER_METRICS_PORT"])
    return int(args.port)


def test_healthchecks_probe_routes_that_exist_on_the_right_port() -> None:
    services = compose()["services"]
    for name, svc in services.items():
        if name not in ONE_SHOT:
            assert "healthcheck" in svc, f"{name} has no healthcheck"
    paths = {
        "api": {"/health", "/health/ready"},  # robian_media.routes.setup_routes
        "worker": {"/health"},  # setup_metrics_only_routes
        "edge-metrics": {"/health"},
    }
    for name, svc in robian_services().items():
        if name in ONE_SHOT:
            continue
        test = svc["healthcheck"]["test"]
        assert test[:3] == ["CMD", "curl", "-fsS"], test  # curl is installed in our image
        url = urlsplit(test[3])
        assert url.hostname == "127.0.0.1" and url.port == _listen_port(svc), (name, test)
        assert url.path in paths[name], (name, url.path)
    # the nginx container probes the origin it listens on
    assert "--listen 0.0.0.0:8000" in services["nginx-config"]["command"][2]
    assert services["nginx"]["healthcheck"]["test"][-1] == "http://127.0.0.1:8000/health"


def test_mounted_files_and_volumes_exist() -> None:
    spec = compose()
    for name, svc in spec["services"].items():
        for mount in svc.get("volumes", []):
            source = mount.split(":")[0]
            if source.startswith("./"):
                assert (REPO / source).exists(), f"{name} mounts {source}, which is not in the repository"
            else:
                assert source in spec["volumes"], f"{name} mounts undeclared volume {source}"
        for dependency in svc.get("depends_on", {}):
            assert dependency in spec["services"], f"{name} depends on unknown {dependency}"


def test_prometheus_scrapes_each_metrics_port() -> None:
    config = yaml.safe_load((REPO / "config/prometheus/prometheus.yml").read_text())
    targets = set()
    for job in config["scrape_configs"]:
        assert job["metrics_path"] == "/metrics"
        for sd in job.get("dns_sd_configs", []):
            targets |= {(host, sd["port"]) for host in sd["names"]}
        for static in job.get("static_configs", []):
            targets |= {(t.split(":")[0], int(t.split(":")[1])) for t in static["targets"]}
    expected = {(name, _listen_port(svc)) for name, svc in robian_services().items() if name not in ONE_SHOT}
    assert targets == expected


def test_grafana_is_provisioned_with_the_dashboard() -> None:
    grafana = mounts(compose()["services"]["grafana"])
    provisioning = REPO / "config/grafana/provisioning"
    assert grafana["./config/grafana/provisioning"] == "/etc/grafana/provisioning"
    datasource = yaml.safe_load((provisioning / "datasources/prometheus.yml").read_text())["datasources"][0]
    assert urlsplit(datasource["url"]).netloc == "prometheus:9090"
    provider = yaml.safe_load((provisioning / "dashboards/robian.yml").read_text())["providers"][0]
    assert grafana["./config/grafana/dashboards"] == provider["options"]["path"]
    home = compose()["services"]["grafana"]["environment"]["GF_DASHBOARDS_DEFAULT_HOME_DASHBOARD_PATH"]
    dashboard = REPO / "config/grafana/dashboards" / home.removeprefix(provider["options"]["path"] + "/")
    panels = json.loads(dashboard.read_text())["panels"]
    assert {p["datasource"]["uid"] for p in panels if p["type"] != "row"} == {datasource["uid"]}


def test_the_dockerfile_is_multi_stage_non_root_healthy_with_ffmpeg() -> None:
    stages = dockerfile_stages()
    assert len(stages) >= 2 and stages[0].name, "a build stage, then the runtime"
    runtime = stages[-1]
    assert any(line.startswith("COPY --from=") for line in runtime.lines)
    users = [line.split()[1] for line in runtime.lines if line.startswith("USER ")]
    assert users and users[-1] not in ("root", "0"), users
    installs = " ".join(line for line in runtime.lines if "apt-get install" in line)
    assert re.search(r"\bffmpeg\b", installs) and re.search(r"\bcurl\b", installs)
    healthcheck = next(line for line in runtime.lines if line.startswith("HEALTHCHECK"))
    assert "http://127.0.0.1:8080/health" in healthcheck
    cmd = next(line for line in runtime.lines if line.startswith("CMD "))
    parse_cli(json.loads(cmd.removeprefix("CMD "))[1:])
    assert "EXPOSE 8080" in runtime.lines


def test_edge_metrics_reads_the_log_the_edge_writes() -> None:
    services = compose()["services"]
    nginx_conf = parse_cli(robian_argv(services["nginx-config"]["command"]) or [])
    edge_metrics = parse_cli(robian_argv(services["edge-metrics"]["command"]) or [])
    assert nginx_conf.edge_listen is not None
    assert edge_metrics.log == nginx_conf.prefix / "edge-access.log"  # nginx/edge.conf.in's access_log
    # and it sees that directory: the volume nginx-config renders into and nginx writes to
    mounted = [mounts(services[name])["nginx-conf"] for name in ("nginx-config", "nginx", "edge-metrics")]
    assert mounted == [str(nginx_conf.prefix)] * 3


def mounts(svc: dict[str, Any]) -> dict[str, str]:
    """Volume or host path → where it is mounted in the container."""
    return {m.split(":")[0]: m.split(":")[1] for m in svc.get("volumes", [])}


def test_the_api_believes_the_client_address_nginx_forwards() -> None:
    """Without it every client shares nginx's address: one client exhausts everyone's rate limits."""
    spec = compose()
    nginx_address = spec["services"]["nginx"]["networks"]["default"]["ipv4_address"]
    subnet = spec["networks"]["default"]["ipam"]["config"][0]["subnet"]
    assert ipaddress.ip_address(nginx_address) in ipaddress.ip_network(subnet)
    api_env = {**spec["x-robian-env"], **spec["services"]["api"]["environment"]}
    settings = Settings(_env_file=None, trusted_proxies=api_env["ROBIAN_TRUSTED_PROXIES"])
    addresses = ClientAddresses(settings.trusted_proxies)
    # two clients behind nginx are two clients, each with its own budget
    assert addresses.key_for(nginx_address, ["203.0.113.7"]) == "203.0.113.7"
    assert addresses.key_for(nginx_address, ["198.51.100.1, 203.0.113.8"]) == "203.0.113.8"
    # another container of the network cannot pick its address
    assert addresses.key_for(str(ipaddress.ip_network(subnet)[20]), ["203.0.113.7"]) != "203.0.113.7"
