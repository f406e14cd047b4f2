"""Queries run in worker processes, so that a query over its time limit can really be stopped.

The embedded store cannot interrupt a running query, so the server never runs one in its own
process. It keeps a pool of warm workers (``python -m carbonkg.server.workers``), each holding a
read-only snapshot of the store; a query is sent to an idle worker over a socket pair, and:

- the worker runs it and writes the answer in the chosen serialisation, small answers back over
  the socket, big ones into a file in the spool folder that the server streams to the client;
- if no answer comes within the time limit, the server kills the worker (SIGKILL: the work stops
  at once, the read-only snapshot needs no cleanup), answers 503, and starts a replacement in the
  background.

Workers reopen their snapshot when the pool's *generation* changes (the server bumps it after
each write it makes, or when it sees that another process wrote the store).

:class:`InlineRunner` has the same interface and runs queries in a thread of the server process:
for ``query_workers = 0`` (debugging) and the command line. It cannot stop a query; its time
limit only stops the waiting.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import logging
import os
import signal
import socket
import subprocess
import sys
import threading
import time
import uuid
from dataclasses import dataclass, field
from multiprocessing.connection import Connection
from pathlib import Path
from typing import Any

log = logging.getLogger(__name__)

INLINE_BYTES = 256 * 1024
STARTUP_TIMEOUT_S = 60.0


class QueryTimeout(Exception):
    """The query ran past its time limit and its worker was killed."""


class PoolBusy(Exception):
    """No worker became free within the time limit."""


class WorkerFailed(Exception):
    """The worker died or failed in a way that is not the query's fault."""


class QueryFailed(Exception):
    """The query itself failed: ``kind`` is ``syntax`` or the error class name."""

    def __init__(self, kind: str, message: str) -> None:
        super().__init__(message)
        self.kind = kind
        self.message = message


@dataclass(eq=False)
class _Worker:
    process: subprocess.Popen
    conn: Connection
    started: float = field(default_factory=time.monotonic)
    tasks: int = 0

    @property
    def alive(self) -> bool:
        return self.process.poll() is None


def _reply(reply: tuple) -> Any:
    status = reply[0]
    if status == "ok":
        return reply[1]
    if status == "syntax":
        raise QueryFailed("syntax", reply[1])
    if status == "error":
        raise QueryFailed(reply[1], reply[2])
    raise WorkerFailed(f"unexpected reply {status!r}")


class QueryPool:
    """A pool of query worker processes (see the module documentation)."""

    def __init__(self, store_path: Path, size: int, spool_dir: str, *, inline_bytes: int = INLINE_BYTES) -> None:
        if size < 1:
            raise ValueError("a query pool needs at least one worker")
        self.store_path = Path(store_path)
        self.size = size
        self.spool_dir = spool_dir
        self.inline_bytes = inline_bytes
        self.generation = 0
        self._workers: set[_Worker] = set()
        self._idle: asyncio.Queue[_Worker] | None = None
        self._replacing: set[asyncio.Task] = set()
        self._closed = False
        self.kills = 0

    # -- life cycle ------------------------------------------------------------------------

    async def start(self) -> None:
        self._idle = asyncio.Queue()
        workers = await asyncio.gather(*(self._spawn() for _ in range(self.size)))
        for worker in workers:
            self._idle.put_nowait(worker)

    async def close(self) -> None:
        self._closed = True
        for task in list(self._replacing):
            task.cancel()
        for worker in list(self._workers):
            with contextlib.suppress(OSError, ValueError):
                worker.conn.send(None)
        deadline = time.monotonic() + 2.0
        for worker in list(self._workers):
            with contextlib.suppress(subprocess.TimeoutExpired):
                worker.process.wait(timeout=max(0.0, deadline - time.monotonic()))
            self._discard(worker)

    def stats(self) -> dict[str, Any]:
        alive = sum(1 for w in self._workers if w.alive)
        idle = self._idle.qsize() if self._idle is not None else 0
        return {"size": self.size, "alive": alive, "idle": idle, "killed": self.kills, "mode": "processes"}

    # -- running ---------------------------------------------------------------------------

    async def run(self, op: str, payload: Any, timeout: float) -> Any:
        """Run ``op`` (``query`` or ``ping``) in a worker; its answer, or an exception."""
        assert self._idle is not None, "pool not started"
        loop = asyncio.get_running_loop()
        deadline = loop.time() + timeout
        for attempt in (1, 2):
            try:
                worker = await asyncio.wait_for(self._idle.get(), timeout=max(0.0, deadline - loop.time()))
            except (asyncio.TimeoutError, TimeoutError):
                raise PoolBusy from None
            task_id = uuid.uuid4().hex
            try:
                worker.conn.send((op, self.generation, payload, task_id))
            except (OSError, ValueError):  # died while idle: replace it and try another one once
                self._kill(worker)
                if attempt == 2:
                    raise WorkerFailed("query worker died") from None
                continue
            try:
                reply = await _receive(worker.conn, max(0.0, deadline - loop.time()))
            except (asyncio.TimeoutError, TimeoutError):
                self._kill(worker, task_id)
                raise QueryTimeout from None
            except asyncio.CancelledError:
                self._kill(worker, task_id)  # nobody will read its answer
                raise
            except (EOFError, OSError) as exc:
                self._kill(worker, task_id)
                raise WorkerFailed(f"query worker died ({exc.__class__.__name__})") from None
            worker.tasks += 1
            self._idle.put_nowait(worker)
            return _reply(reply)
        raise WorkerFailed("no query worker")  # pragma: no cover

    # -- workers ---------------------------------------------------------------------------

    async def _spawn(self) -> _Worker:
        parent, child = socket.socketpair()
        command = [
            sys.executable,
            "-m",
            "carbonkg.server.workers",
            "--fd",
            str(child.fileno()),
            "--store",
            str(self.store_path),
            "--spool",
            self.spool_dir,
            "--inline-bytes",
            str(self.inline_bytes),
            "--generation",
            str(self.generation),
        ]
        try:
            process = await asyncio.to_thread(
                subprocess.Popen, command, pass_fds=[child.fileno()], stdin=subprocess.DEVNULL, close_fds=True
            )
        finally:
            child.close()
        conn = Connection(parent.detach())
        worker = _Worker(process, conn)
        self._workers.add(worker)
        try:
            reply = await _receive(conn, STARTUP_TIMEOUT_S)
        except BaseException:
            self._discard(worker, kill=True)
            raise
        if reply[0] != "ready":
            self._discard(worker, kill=True)
            raise WorkerFailed(f"query worker failed to start: {reply[-1]}")
        return worker

    def _kill(self, worker: _Worker, task_id: str | None = None) -> None:
        self.kills += 1
        self._discard(worker, kill=True)
        if task_id:  # the half-written answer of the killed task, if it spilled to a file
            for path in Path(self.spool_dir).glob(f"answer-{task_id}-*"):
                with contextlib.suppress(OSError):
                    path.unlink()
        if not self._closed:
            task = asyncio.get_running_loop().create_task(self._replace())
            self._replacing.add(task)
            task.add_done_callback(self._replacing.discard)

    def _discard(self, worker: _Worker, *, kill: bool = False) -> None:
        if kill and worker.alive:
            with contextlib.suppress(OSError):
                worker.process.kill()
        with contextlib.suppress(OSError):
            worker.conn.close()
        if kill:
            with contextlib.suppress(subprocess.TimeoutExpired):
                worker.process.wait(timeout=5)
        self._workers.discard(worker)

    async def _replace(self) -> None:
        for delay in (0.0, 0.5, 2.0, 5.0):
            await asyncio.sleep(delay)
            try:
                worker = await self._spawn()
            except Exception:
                log.exception("could not start a query worker")
                continue
            if self._closed:
                self._discard(worker, kill=True)
                return
            assert self._idle is not None
            self._idle.put_nowait(worker)
            return


async def _receive(conn: Connection, timeout: float) -> Any:
    """The next message on ``conn``, waiting at most ``timeout`` seconds without blocking the loop."""
    loop = asyncio.get_running_loop()
    if not conn.poll():
        ready = loop.create_future()
        fd = conn.fileno()
        loop.add_reader(fd, lambda: ready.done() or ready.set_result(None))
        try:
            await asyncio.wait_for(ready, timeout)
        finally:
            loop.remove_reader(fd)
    return conn.recv()


class InlineRunner:
    """Runs queries in a thread of this process (no hard time limit): see the module documentation."""

    def __init__(self, store_path: Path, spool_dir: str | None = None, *, inline_bytes: int = INLINE_BYTES) -> None:
        from carbonkg.server.execute import Executor

        self.executor = Executor(store_path)
        self.spool_dir = spool_dir
        self.inline_bytes = inline_bytes
        self.generation = 0
        self._lock = threading.Lock()

    async def start(self) -> None:
        await asyncio.to_thread(self._call, "ping", None)

    async def close(self) -> None:
        return None

    def stats(self) -> dict[str, Any]:
        return {"size": 0, "alive": 0, "idle": 0, "killed": 0, "mode": "inline"}

    async def run(self, op: str, payload: Any, timeout: float) -> Any:
        try:
            reply = await asyncio.wait_for(asyncio.to_thread(self._call, op, payload), timeout)
        except (asyncio.TimeoutError, TimeoutError):
            raise QueryTimeout from None
        return _reply(reply)

    def _call(self, op: str, payload: Any) -> tuple:
        with self._lock:
            return _handle(self.executor, op, payload, self.generation, self.spool_dir, self.inline_bytes, uuid.uuid4().hex)


def _handle(
    executor: Any, op: str, payload: Any, generation: int, spool_dir: str | None, inline_bytes: int, task_id: str = ""
) -> tuple:
    """One request to a worker: the reply tuple (never raises). A spilled answer's file is named
    after ``task_id``, so that the server can remove it if it kills the worker half-way."""
    from carbonkg.server.execute import Spool

    spool = None
    try:
        executor.refresh(generation)
        if op == "ping":
            return ("ok", executor.ping())
        if op == "query":
            spool = Spool(spool_dir, inline_bytes, prefix=f"answer-{task_id}-")
            return ("ok", spool.finish(executor.run(payload, spool)))
        return ("error", "ValueError", f"unknown operation {op!r}")
    except SyntaxError as exc:
        if spool is not None:
            spool.discard()
        return ("syntax", str(exc))
    except Exception as exc:  # reported to the server, which answers with a problem
        if spool is not None:
            spool.discard()
        return ("error", exc.__class__.__name__, str(exc))


# -- the worker process ------------------------------------------------------------------------


def _watch_parent(parent: int) -> None:
    while True:
        time.sleep(1.0)
        if os.getppid() != parent:
            os._exit(0)


def worker_main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="carbonkg.server.workers")
    parser.add_argument("--fd", type=int, required=True)
    parser.add_argument("--store", required=True)
    parser.add_argument("--spool", required=True)
    parser.add_argument("--inline-bytes", type=int, default=INLINE_BYTES)
    parser.add_argument("--generation", type=int, default=0)
    args = parser.parse_args(argv)
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # Ctrl-C goes to the server, which stops us
    threading.Thread(target=_watch_parent, args=(os.getppid(),), daemon=True).start()

    from carbonkg.server.execute import Executor

    conn = Connection(args.fd)
    executor = Executor(args.store)
    try:
        executor.refresh(args.generation)
    except Exception as exc:
        conn.send(("failed", f"{exc.__class__.__name__}: {exc}"))
        return 1
    conn.send(("ready", os.getpid()))
    while True:
        try:
            message = conn.recv()
        except (EOFError, OSError):
            return 0
        if message is None:
            return 0
        op, generation, payload, task_id = message
        conn.send(_handle(executor, op, payload, generation, args.spool, args.inline_bytes, task_id))


if __name__ == "__main__":
    raise SystemExit(worker_main())
