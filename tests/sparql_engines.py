"""Real SPARQL engines on 127.0.0.1 for the tests (the session fixtures are in tests/conftest.py).

- Oxigraph server: the ``oxigraph`` CLI from the PyPI package ``oxigraph`` (test extras).
- Virtuoso Open Source 7: ``virtuoso-t`` and ``isql-vt`` from the Debian package
  ``virtuoso-opensource-7`` (``.ci/run`` installs it). A private instance: its own database and
  ``virtuoso.ini`` in a temporary folder, SQL and HTTP ports on 127.0.0.1 only, the ``dba``
  password changed at start to a random one, writes with HTTP digest authentication as ``dba``
  on ``/sparql-auth`` and ``/sparql-graph-crud-auth``.

An engine that cannot be found or started FAILS the tests that need it, with the reason: nothing
is skipped.
"""

from __future__ import annotations

import contextlib
import re
import secrets
import shutil
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import httpx
import pytest

from carbonkg.store import RemoteStore

START_TIMEOUT = 60.0


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _tail(path: Path, lines: int = 30) -> str:
    try:
        return "\n".join(path.read_text(errors="replace").splitlines()[-lines:])
    except OSError:
        return "(no log)"


@dataclass
class Engine:
    """A running engine process and how to reach it."""

    name: str
    base_url: str
    process: subprocess.Popen
    folder: Path
    log: Path
    options: dict = field(default_factory=dict)
    ini: Path | None = None

    def store(self, **options) -> RemoteStore:
        opts = {**self.options, **options}
        if self.name.startswith("virtuoso"):
            return RemoteStore.virtuoso(self.base_url, **opts)
        return RemoteStore.oxigraph(self.base_url, **opts)

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
            try:
                self.process.wait(timeout=15)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait(timeout=15)

    @contextlib.contextmanager
    def ini_setting(self, section: str, key: str, value: str) -> Iterator[None]:
        """Virtuoso reads [SPARQL] settings from its ini file at each request: change one for a while."""
        assert self.ini is not None
        original = self.ini.read_text()
        pattern = re.compile(rf"(?ms)^(\[{re.escape(section)}\][^\[]*?^{re.escape(key)}\s*=\s*)[^\n]*$")
        changed, n = pattern.subn(lambda m: m.group(1) + value, original)
        assert n == 1, f"no {key} in [{section}] of {self.ini}"
        self.ini.write_text(changed)
        try:
            yield
        finally:
            self.ini.write_text(original)


def _wait_ready(engine: Engine, probe: str, auth=None) -> None:
    deadline = time.monotonic() + START_TIMEOUT
    last = "no answer"
    while time.monotonic() < deadline:
        if engine.process.poll() is not None:
            pytest.fail(f"{engine.name} exited with code {engine.process.returncode} while starting; "
                        f"its log ({engine.log}):\n{_tail(engine.log)}", pytrace=False)
        try:
            response = httpx.post(probe, data={"query": "ASK {}"}, headers={"Accept": "application/sparql-results+json"},
                                  auth=auth, timeout=5, trust_env=False)
            if response.status_code == 200:
                return
            last = f"{response.status_code} {response.text[:200]}"
        except httpx.HTTPError as exc:
            last = repr(exc)
        time.sleep(0.2)
    engine.stop()
    pytest.fail(f"{engine.name} did not answer at {probe} within {START_TIMEOUT:g} s (last: {last}); "
                f"its log ({engine.log}):\n{_tail(engine.log)}", pytrace=False)


def oxigraph_binary() -> str:
    found = shutil.which("oxigraph", path=str(Path(sys.executable).parent)) or shutil.which("oxigraph")
    if found is None:
        pytest.fail("the `oxigraph` server CLI is not installed: it comes with the PyPI package `oxigraph` "
                    "in the test extras (pip install -e '.[test]')", pytrace=False)
    return found


def start_oxigraph(folder: Path, *, name: str = "oxigraph", extra: tuple[str, ...] = ()) -> Engine:
    binary = oxigraph_binary()
    folder.mkdir(parents=True, exist_ok=True)
    log = folder / "server.log"
    for _attempt in range(3):
        port = free_port()
        with log.open("wb") as out:
            process = subprocess.Popen(
                [binary, "serve", "--location", str(folder / "data"), "--bind", f"127.0.0.1:{port}", *extra],
                stdout=out, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL,
            )
        engine = Engine(name, f"http://127.0.0.1:{port}", process, folder, log, options={"timeout": 60})
        time.sleep(0.1)
        if process.poll() is not None and "in use" in _tail(log).lower():
            continue  # the free port was taken meanwhile: pick another
        _wait_ready(engine, engine.base_url + "/query")
        return engine
    pytest.fail(f"oxigraph could not bind a port on 127.0.0.1: {_tail(log)}", pytrace=False)


VIRTUOSO_INI = """\
[Database]
DatabaseFile = {dir}/virtuoso.db
ErrorLogFile = {dir}/virtuoso.log
LockFile = {dir}/virtuoso.lck
TransactionFile = {dir}/virtuoso.trx
xa_persistent_file = {dir}/virtuoso.pxa
ErrorLogLevel = 7
FileExtend = 200
MaxCheckpointRemap = 2000
Striping = 0
TempStorage = TempDatabase

[TempDatabase]
DatabaseFile = {dir}/virtuoso-temp.db
TransactionFile = {dir}/virtuoso-temp.trx
MaxCheckpointRemap = 2000
Striping = 0

[Parameters]
ServerPort = 127.0.0.1:{sql_port}
DisableUnixSocket = 1
DisableTcpSocket = 0
MaxClientConnections = 10
CheckpointInterval = 60
O_DIRECT = 0
CaseMode = 2
MaxStaticCursorRows = 5000
CheckpointAuditTrail = 0
AllowOSCalls = 0
SchedulerInterval = 10
DirsAllowed = ., {dir}
ThreadCleanupInterval = 0
ThreadThreshold = 10
ResourcesCleanupInterval = 0
FreeTextBatchSize = 100000
SingleCPU = 0
PrefixResultNames = 0
RdfFreeTextRulesSize = 100
IndexTreeMaps = 64
MaxQueryMem = 1G
VectorSize = 1000
MaxVectorSize = 1000000
AdjustVectorSize = 0
ThreadsPerQuery = 2
AsyncQueueMaxThreads = 10
NumberOfBuffers = 20000
MaxDirtyBuffers = 15000

[HTTPServer]
ServerPort = 127.0.0.1:{http_port}
ServerRoot = {dir}/vsp
MaxClientConnections = 10
DavRoot = DAV
EnabledDavVSP = 0
HTTPProxyEnabled = 0
TempASPXDir = 0
ServerThreads = 10
MaxKeepAlives = 10
KeepAliveTimeout = 10
HTTPThreadSize = 280000
HttpPrintWarningsInOutput = 0
Charset = UTF-8
EnabledGzipContent = 0

[AutoRepair]
BadParentLinks = 0

[Client]
SQL_PREFETCH_ROWS = 100
SQL_PREFETCH_BYTES = 16000
SQL_QUERY_TIMEOUT = 0
SQL_TXN_TIMEOUT = 0

[SPARQL]
ResultSetMaxRows = 100000
MaxQueryCostEstimationTime = 400
MaxQueryExecutionTime = 60
"""


def virtuoso_binaries() -> tuple[str, str]:
    server, isql = shutil.which("virtuoso-t"), shutil.which("isql-vt") or shutil.which("isql")
    if server is None or isql is None:
        pytest.fail("Virtuoso is not installed (virtuoso-t / isql-vt not on PATH): "
                    "apt-get install -y virtuoso-opensource-7 (.ci/run does it)", pytrace=False)
    return server, isql


def start_virtuoso(folder: Path) -> Engine:
    server, isql = virtuoso_binaries()
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "vsp").mkdir(exist_ok=True)
    log = folder / "virtuoso.log"
    sql_port, http_port = free_port(), free_port()
    while http_port == sql_port:
        http_port = free_port()
    ini = folder / "virtuoso.ini"
    ini.write_text(VIRTUOSO_INI.format(dir=folder, sql_port=sql_port, http_port=http_port))
    with (folder / "stdout.log").open("wb") as out:
        process = subprocess.Popen([server, "+foreground", "+configfile", str(ini)], cwd=folder,
                                   stdout=out, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL)
    base = f"http://127.0.0.1:{http_port}"
    engine = Engine("virtuoso", base, process, folder, log, ini=ini)
    _wait_ready(engine, base + "/sparql")
    # the private instance's dba gets a random password; the store signs in with digest auth
    password = secrets.token_urlsafe(12)
    done = subprocess.run(
        [isql, f"127.0.0.1:{sql_port}", "dba", "dba", f"EXEC=USER_SET_PASSWORD('dba', '{password}');"],
        capture_output=True, text=True, timeout=60, stdin=subprocess.DEVNULL,
    )
    if done.returncode != 0 or "Error" in done.stdout + done.stderr:
        engine.stop()
        pytest.fail(f"isql could not set the dba password: {done.stdout}{done.stderr}", pytrace=False)
    engine.options = {"user": "dba", "password": password, "timeout": 60}
    _wait_ready(engine, base + "/sparql-auth", auth=httpx.DigestAuth("dba", password))
    return engine
