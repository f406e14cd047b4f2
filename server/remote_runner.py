"""Queries against a remote SPARQL engine (``store_url``), run in threads of the server process.

The engine does the work, so no worker process is needed to stop it: each query is one HTTP
request bounded by the service's time limit (connecting, sending and reading the whole answer),
and at the limit the connection is closed and the client gets 503. Engine answers that were cut
short are errors (:class:`carbonkg.store.RemoteStoreError`), never partial results.
"""

from __future__ import annotations

import asyncio
import threading
import uuid
from typing import Any

from carbonkg.server.execute import Executor
from carbonkg.server.workers import INLINE_BYTES, PoolBusy, QueryTimeout, _handle, _reply


class _RemoteExecutor(Executor):
    """An executor whose remote-engine failures keep their meaning for the client:
    a time-out, a query the engine rejected (400), or the engine failing (503)."""

    def run(self, task, out):  # type: ignore[override]
        from carbonkg.store.remote import RemoteStoreError

        try:
            return super().run(task, out)
        except RemoteStoreError as exc:
            if exc.timed_out:
                raise _TimedOut(str(exc)) from None
            if exc.status == 400:
                _raise_syntax_error(task)
                raise _Rejected(str(exc)) from None
            raise OSError(str(exc)) from None


def _raise_syntax_error(task) -> None:
    """Raise pyoxigraph's SyntaxError for a query the engine rejected, if it is malformed: its line
    and column are the client's own (engines count from the text they were sent). Parsed by
    running it on an empty in-memory store, so never for a query that calls out with SERVICE."""
    import pyoxigraph as ox

    if "SERVICE" in task.sparql.upper():
        return
    try:
        ox.Store().query(task.sparql, base_iri=task.base_iri)
    except SyntaxError:
        raise
    except Exception:
        return


class _TimedOut(Exception):
    pass


class _Rejected(Exception):
    pass


class RemoteRunner:
    """Runs at most ``threads`` queries at a time against the engine at ``url``."""

    def __init__(self, url: str, threads: int, spool_dir: str | None, *, timeout: float,
                 inline_bytes: int = INLINE_BYTES) -> None:
        self.executor = _RemoteExecutor(url, timeout=timeout, live_graphs_ttl=1.0)
        self.threads = max(threads, 1)
        self.spool_dir = spool_dir
        self.inline_bytes = inline_bytes
        self.generation = 0
        self._slots = asyncio.Semaphore(self.threads)
        self._busy = 0
        self._refresh_lock = threading.Lock()

    async def start(self) -> None:
        await self.run("ping", None, 30.0)

    async def close(self) -> None:
        store = self.executor._store
        if store is not None:
            store.close()

    def stats(self) -> dict[str, Any]:
        return {"size": self.threads, "alive": self.threads, "idle": self.threads - self._busy, "killed": 0,
                "mode": "remote"}

    async def run(self, op: str, payload: Any, timeout: float) -> Any:
        try:
            async with asyncio.timeout(timeout):
                await self._slots.acquire()
        except TimeoutError:
            raise PoolBusy from None
        self._busy += 1
        try:
            # the request itself is bounded by the store's timeout; this one only guards against a hang
            reply = await asyncio.wait_for(asyncio.to_thread(self._call, op, payload), timeout + 5.0)
        except (asyncio.TimeoutError, TimeoutError):
            raise QueryTimeout from None
        finally:
            self._busy -= 1
            self._slots.release()
        if reply[0] == "error" and reply[1] == _TimedOut.__name__:
            raise QueryTimeout
        return _reply(reply)

    def _call(self, op: str, payload: Any) -> tuple:
        with self._refresh_lock:  # one catalog read per new generation, not one per thread
            self.executor.refresh(self.generation)
        return _handle(self.executor, op, payload, self.generation, self.spool_dir, self.inline_bytes, uuid.uuid4().hex)
