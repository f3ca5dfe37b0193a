"""The listener page in a real browser: Debian's Chromium driven by playwright-core (npm, pinned in
package-lock.json). ``tests/setup-machine.sh`` installs both; without them these tests fail, saying so."""

from __future__ import annotations

import asyncio
import json
import os
import shutil
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from tests.conftest import RUN_ID, delete_redis_keys
from tests.services import DemoServer

E2E_DIR = Path(__file__).resolve().parent
DRIVER = E2E_DIR / "listener-page.mjs"
REPO = E2E_DIR.parent.parent
CHROMIUM = os.environ.get("ROBIAN_CHROMIUM", "/usr/bin/chromium")


SCREENSHOTS = pytest.StashKey[Path]()


@pytest.fixture(scope="session")
def screenshots(pytestconfig: pytest.Config) -> Path:
    """Where screenshots go: $ROBIAN_E2E_ARTIFACTS, else artifacts/e2e in the checkout (ignored by git)."""
    directory = Path(os.environ.get("ROBIAN_E2E_ARTIFACTS", REPO / "artifacts" / "e2e"))
    directory.mkdir(parents=True, exist_ok=True)
    pytestconfig.stash[SCREENSHOTS] = directory
    return directory


def pytest_terminal_summary(terminalreporter: Any, config: pytest.Config) -> None:
    """Name the screenshots' directory where a person sees it: `pytest -q` hides what tests print."""
    directory = config.stash.get(SCREENSHOTS, None)
    if directory is not None:
        count = len(list(directory.glob("*.png")))
        terminalreporter.write_line(f"browser screenshots: {directory} ({count} PNG files)")


@pytest.fixture(scope="session")
def browser_tools() -> None:
    missing = []
    if shutil.which("node") is None:
        missing.append("node")
    if not Path(CHROMIUM).exists():
        missing.append(CHROMIUM)
    if not (E2E_DIR / "node_modules" / "playwright-core").is_dir():
        missing.append("tests/e2e/node_modules (npm ci)")
    assert not missing, f"missing {', '.join(missing)}: run bash tests/setup-machine.sh"


@pytest.fixture(scope="module")
def demo(tmp_path_factory: pytest.TempPathFactory, database_url: str, redis_url: str) -> Iterator[DemoServer]:
    """`robian-media demo` (what `make run` starts) with its sitting published, on the tests' Redis so
    a test can publish events from this process as a second node would."""
    prefix = f"robian-test:{RUN_ID}:e2e:"
    server = DemoServer(
        tmp_path_factory.mktemp("e2e") / "data", database_url, redis_url=redis_url, redis_prefix=prefix
    ).start()
    try:
        yield server
    finally:
        server.stop()
        asyncio.run(delete_redis_keys(redis_url, prefix))


@dataclass
class Driver:
    """One run of listener-page.mjs: its stdout lines (JSON), read as they come."""

    proc: asyncio.subprocess.Process

    async def next_message(self, timeout: float = 90) -> dict[str, Any]:
        assert self.proc.stdout is not None
        line = await asyncio.wait_for(self.proc.stdout.readline(), timeout)
        if not line:
            stderr = await self.proc.stderr.read() if self.proc.stderr else b""
            raise AssertionError(f"the browser driver ended without a report: {stderr.decode()}")
        return dict(json.loads(line))

    async def result(self, timeout: float = 90) -> dict[str, Any]:
        """The final report; fails with what the page showed if the scenario did not complete."""
        message = await self.next_message(timeout)
        await asyncio.wait_for(self.proc.wait(), 30)
        assert "result" in message, message.get("failure")
        assert message["errors"] == [], message["errors"]  # no script error, no refused load (CSP)
        # axe-core on every state the scenario reached: no violation of WCAG 2.x A/AA or best practice
        assert message["a11y"] == [], json.dumps(message["a11y"], ensure_ascii=False, indent=1)
        return dict(message["result"])


@pytest.fixture
async def run_page(browser_tools: None, demo: DemoServer, screenshots: Path) -> AsyncIterator[Any]:
    """Starts the driver on a scenario against the demo server's page."""
    started: list[Driver] = []

    async def start(scenario: str, *args: str, debate_id: str | None = None) -> Driver:
        debate = debate_id or demo.debate_id
        proc = await asyncio.create_subprocess_exec(
            "node", str(DRIVER), scenario, f"{demo.base_url}/", debate, str(screenshots), *args,
            cwd=E2E_DIR, stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE,
        )  # fmt: skip
        driver = Driver(proc)
        started.append(driver)
        return driver

    yield start
    for driver in started:
        if driver.proc.returncode is None:
            driver.proc.kill()
            await driver.proc.wait()
