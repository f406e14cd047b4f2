"""Queries run in worker processes, so that a query over its time limit can really be stopped.

The embedded store cannot interrupt a running query, so the server never runs one in its own
process. It keeps a pool of warm workers (``python -m carbonkg.server.workers``), each holding a
read-only snapshot of the store; a query is sent to an idle worker over a socket pair, and:

- the worker runs it and writes the answer in the chosen serialisation, small answers back over
  the socket, big ones into a file in the spool folder that the server streams to the client;
- if no answer comes within the time limit, the server kills the worker (SIGKILL: the work stops
  at once, the read-only snapshot needs no cleanup), answers 503, and starts a replacement in the
  background.

The hop is the price of that hard limit, paid on every query, so the server's side of it is kept
small: each worker's socket is an asyncio transport for the worker's whole life (the event loop
watches it once, not once per query), messages are ``multiprocessing.connection`` frames (a
4-byte length and a pickle) read by a protocol, tasks and answers are tuples of plain values
(:meth:`QueryTask.to_wire`, :meth:`Answer.to_wire`), an idle worker is taken without waiting when
there is one, and the time limit is one timer per query.

Workers reopen their snapshot when the pool's *generation* changes (the server bumps it after
each write it makes, or when it sees that another process wrote the store).

:class:`InlineRunner` has the same interface and runs queries in a thread of the server process:
for ``query_workers = 0`` (debugging) and the command line. It cannot stop a query; its time
limit only stops the waiting.
"""

from __future__ import annotations

import argparse
import asyncio
import collections
import contextlib
import itertools
import logging
import os
import pickle
import signal
import socket
import struct
import subprocess
import sys
import threading
import time
import uuid
from dataclasses import dataclass, field
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


def _frame(message: Any) -> bytes:
    """``message`` as one frame, as ``multiprocessing.connection.Connection`` writes them: a
    big-endian length, then the pickle."""
    data = pickle.dumps(message, pickle.HIGHEST_PROTOCOL)
    if len(data) > 0x7FFFFFFF:
        return struct.pack("!iQ", -1, len(data)) + data
    return struct.pack("!i", len(data)) + data


class _Channel(asyncio.Protocol):
    """The server's end of a worker's socket: ``Connection`` frames in, unpickled, one reply
    awaited at a time (a worker runs one task at a time)."""

    def __init__(self) -> None:
        self.transport: asyncio.Transport | None = None
        self.buffer = bytearray()
        self.replies: collections.deque[Any] = collections.deque()
        self.waiter: asyncio.Future | None = None
        self.lost: BaseException | None = None

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self.transport = transport  # type: ignore[assignment]

    def data_received(self, data: bytes) -> None:
        if not self.buffer and len(data) >= 4 and int.from_bytes(data[:4], "big", signed=True) == len(data) - 4:
            self._deliver(_loads(memoryview(data)[4:]))  # the usual case: one whole frame
            return
        buffer = self.buffer
        buffer += data
        while len(buffer) >= 4:
            size = int.from_bytes(buffer[:4], "big", signed=True)
            start = 4
            if size == -1:  # a frame over 2 GiB: an 8-byte length follows
                if len(buffer) < 12:
                    return
                size = int.from_bytes(buffer[4:12], "big")
                start = 12
            end = start + size
            if len(buffer) < end:
                return
            frame = bytes(buffer[start:end])
            del buffer[:end]
            self._deliver(_loads(frame))

    def connection_lost(self, exc: Exception | None) -> None:
        self.lost = EOFError("the worker closed its socket") if exc is None else exc
        waiter = self.waiter
        if waiter is not None and not waiter.done():
            waiter.set_exception(self.lost)

    def _deliver(self, message: Any) -> None:
        waiter = self.waiter
        if waiter is not None and not waiter.done():
            if isinstance(message, Exception):
                waiter.set_exception(message)
            else:
                waiter.set_result(message)
            self.waiter = None
        else:
            self.replies.append(message)

    def send(self, message: Any) -> None:
        if self.lost is not None or self.transport is None or self.transport.is_closing():
            raise OSError("the worker's socket is closed")
        self.transport.write(_frame(message))

    async def receive(self, deadline: float) -> Any:
        """The next message, waiting until ``deadline`` (loop time) at most (TimeoutError)."""
        if self.replies:
            message = self.replies.popleft()
            if isinstance(message, Exception):
                raise message
            return message
        if self.lost is not None:
            raise self.lost
        loop = asyncio.get_running_loop()
        waiter = self.waiter = loop.create_future()
        timer = loop.call_at(deadline, _expire, waiter)
        try:
            return await waiter
        finally:
            timer.cancel()
            self.waiter = None

    def close(self) -> None:
        if self.transport is not None:
            self.transport.abort()


def _loads(data: bytes | memoryview) -> Any:
    try:
        return pickle.loads(data)
    except Exception as exc:  # a worker that writes garbage is broken: the caller drops it
        return exc


def _expire(waiter: asyncio.Future) -> None:
    if not waiter.done():
        waiter.set_exception(TimeoutError())


@dataclass(eq=False)
class _Worker:
    process: subprocess.Popen
    channel: _Channel
    started: float = field(default_factory=time.monotonic)
    tasks: int = 0

    @property
    def alive(self) -> bool:
        return self.process.poll() is None


def _reply(reply: tuple) -> Any:
    status = reply[0]
    if status == "ok":
        return reply[1]
    if status == "answer":  # a query's answer from a worker process, as plain values
        from carbonkg.server.execute import Answer

        return Answer.from_wire(reply[1])
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
        self._idle: list[_Worker] | None = None  # last in, first out: the warmest worker first
        self._waiting: collections.deque[asyncio.Future] = collections.deque()  # requests waiting for a worker
        self._replacing: set[asyncio.Task] = set()
        self._closed = False
        self._task_ids = itertools.count(1)
        self.kills = 0

    # -- life cycle ------------------------------------------------------------------------

    async def start(self) -> None:
        self._idle = []
        workers = await asyncio.gather(*(self._spawn() for _ in range(self.size)))
        for worker in workers:
            self._release(worker)

    async def close(self) -> None:
        self._closed = True
        for task in list(self._replacing):
            task.cancel()
        for worker in list(self._workers):
            with contextlib.suppress(OSError):
                worker.channel.send(None)
        deadline = time.monotonic() + 2.0
        for worker in list(self._workers):
            with contextlib.suppress(subprocess.TimeoutExpired):
                worker.process.wait(timeout=max(0.0, deadline - time.monotonic()))
            self._discard(worker)

    def stats(self) -> dict[str, Any]:
        alive = sum(1 for w in self._workers if w.alive)
        idle = len(self._idle) if self._idle is not None else 0
        return {"size": self.size, "alive": alive, "idle": idle, "killed": self.kills, "mode": "processes"}

    # -- running ---------------------------------------------------------------------------

    async def run(self, op: str, payload: Any, timeout: float) -> Any:
        """Run ``op`` (``query`` or ``ping``) in a worker; its answer, or an exception."""
        assert self._idle is not None, "pool not started"
        loop = asyncio.get_running_loop()
        deadline = loop.time() + timeout
        for attempt in (1, 2):
            worker = self._idle.pop() if self._idle else await self._wait_for_worker(loop, deadline)
            task_id = str(next(self._task_ids))
            try:
                worker.channel.send((op, self.generation, payload.to_wire() if op == "query" else payload, task_id))
            except (OSError, ValueError):  # died while idle: replace it and try another one once
                self._kill(worker)
                if attempt == 2:
                    raise WorkerFailed("query worker died") from None
                continue
            try:
                reply = await worker.channel.receive(deadline)
            except (asyncio.TimeoutError, TimeoutError):
                self._kill(worker, task_id)
                raise QueryTimeout from None
            except asyncio.CancelledError:
                self._kill(worker, task_id)  # nobody will read its answer
                raise
            except Exception as exc:  # EOFError, OSError, a reply that does not unpickle
                self._kill(worker, task_id)
                raise WorkerFailed(f"query worker died ({exc.__class__.__name__})") from None
            worker.tasks += 1
            self._release(worker)
            return _reply(reply)
        raise WorkerFailed("no query worker")  # pragma: no cover

    async def _wait_for_worker(self, loop: asyncio.AbstractEventLoop, deadline: float) -> _Worker:
        """The next worker released, in the order requests came (PoolBusy past ``deadline``)."""
        waiter = loop.create_future()
        self._waiting.append(waiter)
        timer = loop.call_at(deadline, _expire, waiter)
        try:
            return await waiter
        except (asyncio.TimeoutError, TimeoutError):
            raise PoolBusy from None
        except BaseException:
            # cancelled after a worker was handed over, but before this task ran: pass it on
            if waiter.done() and not waiter.cancelled() and waiter.exception() is None:
                self._release(waiter.result())
            raise
        finally:
            timer.cancel()
            if not waiter.done():
                waiter.cancel()

    def _release(self, worker: _Worker) -> None:
        """Hand ``worker`` to the longest-waiting request, or put it with the idle ones."""
        assert self._idle is not None
        while self._waiting:
            waiter = self._waiting.popleft()
            if not waiter.done():
                waiter.set_result(worker)
                return
        self._idle.append(worker)

    # -- workers ---------------------------------------------------------------------------

    async def _spawn(self) -> _Worker:
        loop = asyncio.get_running_loop()
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
        except BaseException:
            parent.close()
            raise
        finally:
            child.close()
        try:
            _, channel = await loop.create_unix_connection(_Channel, sock=parent)
        except BaseException:
            parent.close()
            with contextlib.suppress(OSError):
                process.kill()
            raise
        worker = _Worker(process, channel)
        self._workers.add(worker)
        try:
            reply = await channel.receive(loop.time() + STARTUP_TIMEOUT_S)
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
            worker.channel.close()
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
            self._release(worker)
            return


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


def stale_snapshot(exc: BaseException) -> bool:
    """Whether ``exc`` is RocksDB finding a file of a read-only snapshot gone: the writer (another
    process, or this server with updates on) compacted it away after the snapshot was opened.
    (pyoxigraph calls reading a store another process writes undefined behaviour; this is the
    failure it has, and reopening is the cure.)"""
    text = str(exc)
    return isinstance(exc, OSError) and ("No such file" in text or "Corruption" in text) and ".sst" in text


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
            try:
                return ("ok", spool.finish(executor.run(payload, spool)))
            except Exception as exc:
                if not stale_snapshot(exc):
                    raise
                # a writer compacted away a file this read-only snapshot still pointed at: open
                # the store's current state and answer from it (once)
                log.info("the store's files changed under the snapshot (%s); reopening", exc)
                spool.discard()
                spool = Spool(spool_dir, inline_bytes, prefix=f"answer-{task_id}-")
                executor.reopen()
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


class _WorkerEnd:
    """The worker's end of its socket: the frames of :func:`_frame` both ways. A message is
    usually read with one system call (``Connection.recv`` makes two, and more Python)."""

    def __init__(self, fd: int) -> None:
        self.sock = socket.socket(fileno=fd)
        self.buffer = bytearray()

    def send(self, message: Any) -> None:
        self.sock.sendall(_frame(message))

    def recv(self) -> Any:
        while (frame := self._next_frame()) is None:
            chunk = self.sock.recv(1 << 16)
            if not chunk:
                raise EOFError("the server closed the socket")
            self.buffer += chunk
        return pickle.loads(frame)

    def _next_frame(self) -> bytes | None:
        buffer = self.buffer
        if len(buffer) < 4:
            return None
        size, start = int.from_bytes(buffer[:4], "big", signed=True), 4
        if size == -1:  # a frame over 2 GiB: an 8-byte length follows
            if len(buffer) < 12:
                return None
            size, start = int.from_bytes(buffer[4:12], "big"), 12
        end = start + size
        if len(buffer) < end:
            return None
        frame = bytes(buffer[start:end])
        del buffer[:end]
        return frame


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

    from carbonkg.server.execute import Answer, Executor, QueryTask

    conn = _WorkerEnd(args.fd)
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
        if op == "query":  # tasks and answers cross the socket as plain values (QueryTask.to_wire)
            payload = QueryTask.from_wire(payload)
        reply = _handle(executor, op, payload, generation, args.spool, args.inline_bytes, task_id)
        if reply[0] == "ok" and isinstance(reply[1], Answer):
            reply = ("answer", reply[1].to_wire())
        conn.send(reply)


if __name__ == "__main__":
    raise SystemExit(worker_main())
