"""Real services for the test suite: a PostgreSQL server, Redis servers the tests own, free ports."""

from __future__ import annotations

import asyncio
import contextlib
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request
import warnings
from collections.abc import Iterator
from pathlib import Path

import asyncpg

DEFAULT_PG = "postgresql://postgres@127.0.0.1:5432/postgres"


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def wait_for_port(port: int, timeout: float = 10.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if _listening(port):
            return
        time.sleep(0.05)
    raise TimeoutError(f"nothing listens on 127.0.0.1:{port}")


def _listening(port: int) -> bool:
    try:
        with socket.create_connection(("127.0.0.1", port), timeout=0.2):
            return True
    except OSError:
        return False


def _reachable(dsn: str) -> bool:
    async def probe() -> bool:
        try:
            conn = await asyncpg.connect(dsn, timeout=2)
        except (OSError, asyncpg.PostgresError):
            return False
        await conn.close()
        return True

    return asyncio.run(probe())


@contextlib.contextmanager
def postgres_server() -> Iterator[str]:
    """An admin DSN: ROBIAN_TEST_PG_URL, else the machine's PostgreSQL, else a pgserver of our own."""
    dsn = os.environ.get("ROBIAN_TEST_PG_URL", DEFAULT_PG)
    if _reachable(dsn):
        yield dsn
        return
    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", message="XDG_RUNTIME_DIR is not set")
        import pgserver
    pgdata = Path(tempfile.mkdtemp(prefix="robian-test-pg-"))
    server = pgserver.get_server(pgdata, cleanup_mode="delete")
    try:
        yield server.get_uri()
    finally:
        server.cleanup()


@contextlib.contextmanager
def fresh_database(admin_dsn: str, name: str) -> Iterator[str]:
    async def run(sql: str) -> None:
        conn = await asyncpg.connect(admin_dsn)
        try:
            await conn.execute(sql)
        finally:
            await conn.close()

    asyncio.run(run(f'CREATE DATABASE "{name}"'))
    try:
        yield _with_database(admin_dsn, name)
    finally:
        asyncio.run(run(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))


def _with_database(dsn: str, name: str) -> str:
    base, _, query = dsn.partition("?")
    head = base.rsplit("/", 1)[0]
    return f"{head}/{name}" + (f"?{query}" if query else "")


class RedisServer:
    """A redis-server process owned by a test, so it can be stopped and started again."""

    def __init__(self, port: int | None = None) -> None:
        self.port = port or free_port()
        self.url = f"redis://127.0.0.1:{self.port}/0"
        self._proc: subprocess.Popen[bytes] | None = None

    def start(self) -> RedisServer:
        binary = shutil.which("redis-server")
        if binary is None:
            raise RuntimeError("redis-server is not installed (make test installs it)")
        self._proc = subprocess.Popen(
            [binary, "--port", str(self.port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no"],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        wait_for_port(self.port)
        return self

    def stop(self) -> None:
        if self._proc is not None:
            self._proc.kill()
            self._proc.wait(timeout=10)
            self._proc = None


class NginxServer:
    """An nginx master (``daemon off``) owned by a test, on a configuration file and a prefix directory."""

    def __init__(self, config: Path, prefix: Path, ports: list[int]) -> None:
        self.config = config
        self.prefix = prefix
        self.ports = ports
        self._proc: subprocess.Popen[bytes] | None = None

    @property
    def pid(self) -> int:
        """The master's pid (its workers are its children)."""
        if self._proc is None:
            raise RuntimeError("nginx is not running")
        return self._proc.pid

    @staticmethod
    def binary() -> str:
        binary = shutil.which("nginx") or ("/usr/sbin/nginx" if Path("/usr/sbin/nginx").exists() else None)
        if binary is None:
            raise RuntimeError("nginx is not installed (make test installs it)")
        return binary

    def check(self) -> subprocess.CompletedProcess[str]:
        """``nginx -t`` on the configuration."""
        return subprocess.run(
            [self.binary(), "-t", "-c", str(self.config), "-p", str(self.prefix)],
            capture_output=True,
            text=True,
            timeout=30,
        )

    def start(self) -> NginxServer:
        self._proc = subprocess.Popen(
            [self.binary(), "-c", str(self.config), "-p", str(self.prefix), "-g", "daemon off;"],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.PIPE,
        )
        deadline = time.monotonic() + 10
        for port in self.ports:
            while not _listening(port):
                if self._proc.poll() is not None or time.monotonic() > deadline:
                    raise RuntimeError(f"nginx did not start: {self.stop()}")
                time.sleep(0.02)
        return self

    def reopen_logs(self) -> None:
        """What logrotate asks of nginx after moving its logs away (SIGUSR1 to the master)."""
        os.kill(self.pid, signal.SIGUSR1)

    def stop(self) -> str:
        """Fast shutdown (SIGTERM), then kill after a deadline; returns what nginx wrote on stderr."""
        if self._proc is None:
            return ""
        proc, self._proc = self._proc, None
        proc.terminate()
        try:
            _, stderr = proc.communicate(timeout=10)
        except subprocess.TimeoutExpired:
            proc.kill()
            _, stderr = proc.communicate(timeout=10)
        return stderr.decode(errors="replace")


class DemoServer:
    """``robian-media demo`` in a subprocess: the server, once its synthesised sitting is published."""

    def __init__(self, data_dir: Path, database_url: str, **settings: str) -> None:
        self.port = free_port()
        self.base_url = f"http://127.0.0.1:{self.port}"
        self.env = {k: v for k, v in os.environ.items() if not k.startswith("ROBIAN_")}
        self.env.update(
            {
                "ROBIAN_DATA_DIR": str(data_dir),
                "ROBIAN_DATABASE_URL": database_url,
                "ROBIAN_WORKERS": "1",
                "ROBIAN_LADDER": "speech-fast",
                "ROBIAN_LOG_LEVEL": "WARNING",
                **{f"ROBIAN_{name.upper()}": value for name, value in settings.items()},
            }
        )
        self.lines: list[str] = []
        self._proc: subprocess.Popen[str] | None = None

    def start(self, timeout: float = 240) -> DemoServer:
        """Returns once the demo prints its sitting's page, published, and the line after it (lines read
        are in ``lines``)."""
        self._proc = subprocess.Popen(
            [sys.executable, "-m", "robian_media.cli", "demo", "--port", str(self.port)],
            env=self.env,
            stdout=subprocess.PIPE,
            stderr=subprocess.DEVNULL,
            text=True,
        )
        assert self._proc.stdout is not None
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            line = self._proc.stdout.readline()
            if not line:
                break
            self.lines.append(line)
            if line.startswith("(every debate:"):
                return self
        self.stop()
        raise RuntimeError("the demo sitting was not published:\n" + "".join(self.lines))

    def printed(self, label: str) -> str:
        """The URL the demo printed after ``label`` (``published:``, ``listen:``…)."""
        for line in self.lines:
            words = line.split()
            if label in words:
                return words[words.index(label) + 1]
        raise LookupError(f"the demo printed no {label!r}:\n" + "".join(self.lines))

    @property
    def master_url(self) -> str:
        return self.printed("published:")

    @property
    def debate_id(self) -> str:
        return self.master_url.split("/hls/")[1].split("/")[0]

    def stop(self) -> None:
        """SIGINT (what Ctrl-C does), then kill after a deadline."""
        if self._proc is None:
            return
        proc, self._proc = self._proc, None
        proc.send_signal(signal.SIGINT)
        try:
            proc.wait(timeout=30)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()
        if proc.stdout is not None:
            proc.stdout.close()


def server_env(**settings: str) -> dict[str, str]:
    """This environment less its ROBIAN_* variables, plus ``settings`` (names without the prefix)."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("ROBIAN_")}
    env.update({"ROBIAN_LOG_JSON": "false", "ROBIAN_LOG_LEVEL": "WARNING"})
    env.update({f"ROBIAN_{name.upper()}": value for name, value in settings.items()})
    return env


class ServerProcess:
    """``robian-media serve`` (or ``worker``) in a process of its own, as deployed; serve on a free port."""

    def __init__(
        self, env: dict[str, str], log: Path, *, command: str = "serve", args: tuple[str, ...] = ()
    ) -> None:
        self.env = env
        self.log = log
        self.command = command
        self.args = args
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self._proc: subprocess.Popen[bytes] | None = None

    @property
    def pid(self) -> int:
        if self._proc is None:
            raise RuntimeError("the server is not running")
        return self._proc.pid

    def start(self, timeout: float = 60.0) -> ServerProcess:
        """Start; for ``serve``, return once /health answers."""
        port = ["--port", str(self.port)] if self.command == "serve" else []
        with self.log.open("ab") as out:
            self._proc = subprocess.Popen(
                [sys.executable, "-m", "robian_media.cli", self.command, *port, *self.args],
                env=self.env,
                stdout=out,
                stderr=subprocess.STDOUT,
                start_new_session=True,
            )
        deadline = time.monotonic() + timeout
        while self.command == "serve" and not _answers(f"{self.url}/health"):
            if self._proc.poll() is not None or time.monotonic() > deadline:
                self.stop()
                raise RuntimeError(f"the server did not start:\n{self.output()[-3000:]}")
            time.sleep(0.1)
        return self

    def alive(self) -> bool:
        return self._proc is not None and self._proc.poll() is None

    def output(self) -> str:
        return self.log.read_text(errors="replace") if self.log.exists() else ""

    def stop(self, timeout: float = 30.0) -> int | None:
        """SIGINT (a clean shutdown), then SIGKILL after ``timeout``; returns the exit code."""
        if self._proc is None:
            return None
        proc, self._proc = self._proc, None
        if proc.poll() is None:
            proc.send_signal(signal.SIGINT)
            try:
                proc.wait(timeout=timeout)
            except subprocess.TimeoutExpired:
                os.killpg(proc.pid, signal.SIGKILL)
                proc.wait(timeout=10)
        return proc.returncode


def _answers(url: str) -> bool:
    try:
        with urllib.request.urlopen(url, timeout=2) as response:
            return bool(response.status == 200)
    except OSError:
        return False


class PostgresServer:
    """A PostgreSQL cluster owned by a test (Debian's binaries, run as the ``postgres`` user when root).

    ``stop()`` is a crash (every process killed: what clients see in a crash or a failover);
    ``start()`` brings it back on the same port with the same data, after crash recovery.
    """

    def __init__(self, directory: Path) -> None:
        self.bin = _postgres_bin()
        self.directory = directory
        self.data = directory / "pgdata"
        self.port = free_port()
        self.admin_dsn = f"postgresql://postgres@127.0.0.1:{self.port}/postgres"

    def _run(self, *argv: str) -> None:
        prefix = ["runuser", "-u", _postgres_user(), "--"] if os.geteuid() == 0 else []
        done = subprocess.run([*prefix, *argv], capture_output=True, text=True, timeout=60)
        if done.returncode != 0:
            raise RuntimeError(f"{argv[0]} failed: {done.stderr.strip() or done.stdout.strip()}")

    def init(self) -> PostgresServer:
        """``directory`` must be reachable by the ``postgres`` user (not under pytest's 0700 basetemp)."""
        self.directory.mkdir(parents=True, exist_ok=True)
        if os.geteuid() == 0:
            user = _postgres_user()
            shutil.chown(self.directory, user, user)
        self._run(
            str(self.bin / "initdb"), "-D", str(self.data), "-U", "postgres", "-A", "trust", "--no-sync"
        )
        return self

    def start(self) -> PostgresServer:
        options = f"-p {self.port} -k {self.directory} -c listen_addresses=127.0.0.1 -c fsync=off"
        self._run(
            str(self.bin / "pg_ctl"), "-D", str(self.data), "-o", options, "-l",
            str(self.directory / "postgres.log"), "-w", "start",
        )  # fmt: skip
        return self

    def stop(self) -> None:
        """A crash: SIGKILL the postmaster and every backend (``pg_ctl -m immediate`` can wait a
        minute on a backend blocked writing to a client that does not read)."""
        pid = self._postmaster_pid()
        if pid is None:
            return
        family = [pid, *(child for child in _pids() if _parent(child) == pid)]
        for member in family:
            with contextlib.suppress(ProcessLookupError):
                os.kill(member, signal.SIGKILL)
        deadline = time.monotonic() + 20
        while any(_alive(member) for member in family):
            if time.monotonic() > deadline:
                raise RuntimeError(f"PostgreSQL processes {family} survived SIGKILL")
            time.sleep(0.02)
        # all dead: the lock file's pid may be a zombie nobody reaps (no init here), which
        # PostgreSQL would take for a running postmaster
        (self.data / "postmaster.pid").unlink(missing_ok=True)
        for name in (f".s.PGSQL.{self.port}.lock", f".s.PGSQL.{self.port}"):
            (self.directory / name).unlink(missing_ok=True)

    def running(self) -> bool:
        pid = self._postmaster_pid()
        return pid is not None and _alive(pid)

    def _postmaster_pid(self) -> int | None:
        try:
            return int((self.data / "postmaster.pid").read_text().split()[0])
        except (FileNotFoundError, IndexError, ValueError):
            return None


def _pids() -> list[int]:
    return [int(p.name) for p in Path("/proc").iterdir() if p.name.isdigit()]


def _parent(pid: int) -> int | None:
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return None
    return int(stat.rsplit(")", 1)[1].split()[1])


def _alive(pid: int) -> bool:
    """Running, and not a zombie waiting for its parent to reap it."""
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except OSError:
        return False
    return state != "Z"


def _postgres_bin() -> Path:
    """Debian's server binaries, else the ones the pgserver wheel carries (a dependency of ours)."""
    found = sorted(Path("/usr/lib/postgresql").glob("*/bin/pg_ctl"))
    if found:
        return found[-1].parent
    import pgserver

    return Path(pgserver.__file__).parent / "pginstall" / "bin"


def _postgres_user() -> str:
    """Who runs PostgreSQL when we are root (it refuses root): Debian's user, else pgserver's."""
    import pwd

    for name in ("postgres", "pgserver"):
        try:
            pwd.getpwnam(name)
            return name
        except KeyError:
            continue
    subprocess.run(["useradd", "--system", "--no-create-home", "pgserver"], check=True)
    return "pgserver"
