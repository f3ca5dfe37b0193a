"""Ingest refuses to fetch what it must not: other schemes, internal addresses, hosts off the allowlist.

Checked when a job is submitted (a 422 saying why), and again on every connection while fetching:
after DNS, after each redirect, in the yt-dlp subprocess and in our own metadata client.
"""

from __future__ import annotations

import ipaddress
from pathlib import Path
from typing import Any

import pytest
from aiohttp.test_utils import TestClient

from robian_media.app import create_app
from robian_media.ingest.sources.fetch_policy import FetchPolicy
from robian_media.ingest.sources.http_fetch import SourceClient
from robian_media.ingest.sources.ytdlp_runner import download_source
from robian_media.jobs.circuit_breaker import CircuitBreakers
from robian_media.jobs.errors import SourceRefused
from tests.ingest.conftest import submit, wait_job
from tests.ingest.origin import Origin


@pytest.mark.parametrize(
    ("address", "category"),
    [
        ("10.0.0.1", "private"),
        ("192.168.1.20", "private"),
        ("169.254.169.254", "link-local"),
        ("127.0.0.1", "loopback"),
        ("0.0.0.0", "unspecified"),
        ("224.0.0.1", "multicast"),
        ("::1", "loopback"),
        ("fe80::1", "link-local"),
        ("fd00::2", "private"),
        ("::ffff:127.0.0.1", "loopback"),
        ("::ffff:169.254.169.254", "link-local"),
        ("64:ff9b::a00:1", "private"),
        ("2002:7f00:1::", "loopback"),
        ("100.64.0.1", "non-public"),
        ("8.8.8.8", None),
        ("2001:4860:4860::8888", None),
    ],
)
def test_addresses_are_classified_after_unwrapping_ipv6_forms(address: str, category: str | None) -> None:
    from robian_media.ingest.sources.fetch_policy import address_category

    assert address_category(ipaddress.ip_address(address)) == category


def test_allow_private_opens_loopback_and_private_ranges_only() -> None:
    policy = FetchPolicy(allow_private=True)
    assert policy.address_refusal(ipaddress.ip_address("127.0.0.1")) is None
    assert policy.address_refusal(ipaddress.ip_address("10.1.2.3")) is None
    assert "link-local" in (policy.address_refusal(ipaddress.ip_address("169.254.169.254")) or "")
    allowlisted = FetchPolicy(allowlist=("assemblee-nationale.fr",))
    assert allowlisted.host_allowed("videos.assemblee-nationale.fr")
    assert not allowlisted.host_allowed("assemblee-nationale.fr.evil.example")


@pytest.fixture
async def strict_client(aiohttp_client: Any, ingest_settings: Any) -> TestClient[Any, Any]:
    return await aiohttp_client(create_app(ingest_settings(ingest_allow_private=False, workers=0)))


@pytest.mark.parametrize(
    ("source_url", "reason"),
    [
        ("http://10.0.0.1/sitting.mp4", "10.0.0.1 is a private address"),
        ("http://169.254.169.254/latest/meta-data/", "link-local"),
        ("http://[::ffff:127.0.0.1]:8080/a.m4a", "loopback"),
        ("http://localhost:9/a.m4a", "127.0.0.1 is a loopback address"),
        ("http://2130706433/a.m4a", "loopback"),  # 127.0.0.1 as one number
        ("file:///etc/passwd", "ROBIAN_INGEST_LOCAL_DIRS"),
        ("ftp://example.org/a.mp3", "not ftp scheme"),
        ("gopher://127.0.0.1:6379/_INFO", "not gopher scheme"),
    ],
)
async def test_refused_at_submit_time(
    strict_client: TestClient[Any, Any], source_url: str, reason: str
) -> None:
    status, problem = await submit(strict_client, source_url)
    assert status == 422, problem
    assert problem["errors"][0]["location"] == "body.source_url"
    assert reason in problem["detail"]


async def test_a_compte_rendu_on_an_internal_address_is_refused(strict_client: TestClient[Any, Any]) -> None:
    status, problem = await submit(
        strict_client, "http://8.8.8.8/sitting.mp3", compte_rendu_url="http://169.254.169.254/cr.xml"
    )
    assert status == 422
    assert problem["errors"][0]["location"] == "body.compte_rendu_url"


async def test_hosts_outside_the_allowlist_are_refused(aiohttp_client: Any, ingest_settings: Any) -> None:
    settings = ingest_settings(ingest_allowlist="assemblee-nationale.fr", workers=0)
    client = await aiohttp_client(create_app(settings))
    status, problem = await submit(client, "http://127.0.0.1:9/a.m4a")
    assert status == 422
    assert "not in ROBIAN_INGEST_ALLOWLIST" in problem["detail"]


async def test_a_redirect_to_the_metadata_service_is_refused_while_fetching(
    ingest_client: TestClient[Any, Any], origin: Origin
) -> None:
    # the first hop (the origin, loopback: allowed in tests) passes the submit check; its redirect
    # must be stopped when yt-dlp follows it
    target = origin.url("/redirect?to=http://169.254.169.254/latest/meta-data/")
    status, accepted = await submit(ingest_client, target)
    assert status == 202
    job = await wait_job(ingest_client, accepted["job_id"])
    assert job["status"] == "failed"
    assert "169.254.169.254 is a link-local address" in job["error"]


async def test_the_ytdlp_subprocess_refuses_loopback_at_connect_time(origin: Origin, tmp_path: Path) -> None:
    # as if "localhost" had resolved to a public address when the job was submitted (DNS
    # rebinding): the subprocess checks the address it is about to connect to, not an old answer
    strict = FetchPolicy(allow_private=False)
    with pytest.raises(SourceRefused, match=r"127\.0\.0\.1 is a loopback address"):
        await download_source(
            f"http://localhost:{origin.port}/files/speech.m4a",
            tmp_path / "out",
            policy=strict,
            max_bytes=10 << 20,
            max_duration=3600,
            ffmpeg_location=None,
            on_progress=lambda *_: None,
        )
    assert origin.requests == []  # nothing reached the server


async def test_our_metadata_client_checks_every_redirect_hop(origin: Origin) -> None:
    client = SourceClient(FetchPolicy(allow_private=True), CircuitBreakers())
    try:
        assert b"<player" in await client.fetch(
            origin.url("/redirect?to=/Datas/an/1_a/content/finalplayer.nvs"),
            max_bytes=1 << 20,
            what="timeline",
        )
        with pytest.raises(SourceRefused, match="link-local"):
            await client.fetch(
                origin.url("/redirect?to=http://169.254.169.254/latest/"), max_bytes=1 << 20, what="data.nvs"
            )
        with pytest.raises(SourceRefused, match="not ftp scheme"):
            await client.fetch(
                origin.url("/redirect?to=ftp://127.0.0.1/x"), max_bytes=1 << 20, what="data.nvs"
            )
    finally:
        await client.close()
    strict = SourceClient(FetchPolicy(allow_private=False), CircuitBreakers())
    try:
        with pytest.raises(SourceRefused, match="loopback"):
            await strict.fetch(
                f"http://localhost:{origin.port}/cr.xml", max_bytes=1 << 20, what="compte rendu"
            )
    finally:
        await strict.close()
