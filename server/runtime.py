"""What the application holds while it runs: the store handle, the query workers, the spool folder.

Read-only or writable
---------------------
An on-disk pyoxigraph store admits one writer process. The service therefore holds the store
**read-only unless updates are enabled**, so that ``carbonkg load`` can write while it serves:

- read-only (default): at startup the store is opened for writing just long enough to load the
  static graphs if they changed (skipped with a warning when a loader holds the lock), then
  reopened read-only. Read-only handles are snapshots; the server notices another process's
  writes (the store's manifest and write-ahead log change) and reopens its handle and the
  workers' within a second.
- writable (``allow_update``): the server process is the store's one writer; it runs updates
  and Graph Store writes itself, one at a time, and then moves the workers to a new snapshot.
  ``carbonkg load`` must not run meanwhile (it would fail on the lock).

pyoxigraph documents read-only opening next to a writer as undefined behaviour; the risk is
confined to the read-only snapshots (a query may fail and is answered 503; the next request
reopens), never to the data.
"""

from __future__ import annotations

import asyncio
import gc
import logging
import os
import shutil
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pyoxigraph as ox

from carbonkg.server import dataset as ds
from carbonkg.server.execute import Answer, QueryTask
from carbonkg.server.problems import Problem
from carbonkg.server.settings import Settings
from carbonkg.server.workers import InlineRunner, PoolBusy, QueryFailed, QueryPool, QueryTimeout, WorkerFailed
from carbonkg.store.embedded import EmbeddedStore

log = logging.getLogger(__name__)

_FRESHNESS_INTERVAL_S = 1.0


def store_stamp(path: Path) -> tuple:
    """Changes whenever a writer commits: the manifest, CURRENT and write-ahead log files."""
    entries = []
    try:
        with os.scandir(path) as it:
            for entry in it:
                name = entry.name
                if name == "CURRENT" or name.startswith("MANIFEST-") or name.endswith(".log"):
                    st = entry.stat()
                    entries.append((name, st.st_size, st.st_mtime_ns))
    except FileNotFoundError:
        return ()
    return tuple(sorted(entries))


def open_store(settings: Settings) -> tuple[Any, bool]:
    """The store handle for the service and whether it is writable (see the module documentation)."""
    from carbonkg.server.static_graphs import sync_static_graphs

    if settings.store_url:
        return open_remote_store(settings), False

    path = Path(settings.store_path)
    if settings.allow_update:
        store = EmbeddedStore(path)
        if settings.load_static_graphs:
            sync_static_graphs(store)
        return store, True
    if settings.load_static_graphs or not path.exists():
        try:
            writer = EmbeddedStore(path)
        except OSError as exc:
            log.warning("store %s is being written by another process (%s); static graphs not checked", path, exc)
        else:
            try:
                if settings.load_static_graphs:
                    sync_static_graphs(writer)
                writer.flush()
            finally:
                del writer
                gc.collect()  # drop the handle now: it holds the store's lock
    return EmbeddedStore(path, read_only=True), False


def open_remote_store(settings: Settings) -> Any:
    """A remote engine, read-only; its static graphs are brought up to date first when the engine
    accepts writes from this service (else a warning: the loaders keep them)."""
    from carbonkg.server.static_graphs import sync_static_graphs
    from carbonkg.store.remote import RemoteStore, RemoteStoreError

    assert settings.store_url
    if settings.load_static_graphs:
        writer = RemoteStore.from_url(settings.store_url, timeout=max(settings.query_timeout_s, 60.0))
        try:
            sync_static_graphs(writer)
        except RemoteStoreError as exc:
            log.warning("static graphs of %s not checked: %s", writer, exc)
        finally:
            writer.close()
    return RemoteStore.from_url(settings.store_url, read_only=True, timeout=settings.query_timeout_s)


class Runtime:
    """The service's resources; one per application, created in its lifespan."""

    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        self.store: Any = None  # EmbeddedStore, or RemoteStore with store_url
        self.writable = False
        self.runner: QueryPool | InlineRunner | None = None
        self.spool_dir = ""
        self.generation = 0
        self._catalog: ds.Catalog | None = None
        self._stamp: tuple = ()
        self._checked = 0.0
        self._write_lock = asyncio.Lock()
        self.started = time.time()

    @classmethod
    async def open(cls, settings: Settings) -> Runtime:
        runtime = cls(settings)
        runtime.store, runtime.writable = await asyncio.to_thread(open_store, settings)
        runtime.spool_dir = tempfile.mkdtemp(prefix="carbonkg-answers-")
        if settings.store_url:
            from carbonkg.server.remote_runner import RemoteRunner

            runtime.runner = RemoteRunner(settings.store_url, max(settings.query_workers, 1) * 4, runtime.spool_dir,
                                          timeout=settings.query_timeout_s)
        elif settings.query_workers > 0:
            runtime.runner = QueryPool(Path(settings.store_path), settings.query_workers, runtime.spool_dir)
        else:
            runtime.runner = InlineRunner(Path(settings.store_path), runtime.spool_dir)
        if not settings.store_url:
            runtime._stamp = store_stamp(Path(settings.store_path))
        try:
            await runtime.runner.start()
        except BaseException:
            await runtime.close()
            raise
        return runtime

    async def close(self) -> None:
        if self.runner is not None:
            await self.runner.close()
        if self.store is not None:
            await asyncio.to_thread(self.store.flush)
        self.store = None
        gc.collect()
        if self.spool_dir:
            shutil.rmtree(self.spool_dir, ignore_errors=True)

    # -- reading -------------------------------------------------------------------------------

    def catalog(self) -> ds.Catalog:
        self.check_fresh()
        if self._catalog is None:
            assert self.store is not None
            self._catalog = self.store.catalog()
        return self._catalog

    def check_fresh(self) -> None:
        """In read-only mode, reopen the snapshot when another process has written the store (on a
        remote engine: read its catalog again, at most once a second)."""
        if self.writable:
            return
        now = time.monotonic()
        if now - self._checked < _FRESHNESS_INTERVAL_S:
            return
        self._checked = now
        if self.settings.store_url:
            catalog = self.store.catalog()
            if self._catalog is not None and catalog != self._catalog:
                log.info("the remote store's catalog changed")
                self._changed()
            self._catalog = catalog
            return
        stamp = store_stamp(Path(self.settings.store_path))
        if stamp != self._stamp:
            log.info("the store changed on disk; reopening the read-only snapshot")
            self._stamp = stamp
            self.store = None
            self.store = EmbeddedStore(self.settings.store_path, read_only=True)
            self._changed()

    def _changed(self) -> None:
        self.generation += 1
        self._catalog = None
        if self.runner is not None:
            self.runner.generation = self.generation

    async def query(self, task: QueryTask) -> Answer:
        """Run a query in a worker; errors become problems."""
        self.check_fresh()
        assert self.runner is not None
        timeout = self.settings.query_timeout_s
        try:
            return await self.runner.run("query", task, timeout)
        except QueryTimeout:
            raise Problem(
                503,
                "Query timed out",
                f"the query ran longer than this server's limit of {timeout:g} s and was stopped; "
                "narrow it (a more selective pattern, LIMIT) and try again",
                slug="query-timeout",
                headers={"Retry-After": "1"},
                timeout_s=timeout,
            ) from None
        except PoolBusy:
            raise Problem(
                503,
                "Service busy",
                f"every query worker stayed busy for {timeout:g} s; try again later",
                slug="busy",
                headers={"Retry-After": "5"},
            ) from None
        except WorkerFailed as exc:
            raise Problem(503, "Query failed", f"the query worker failed ({exc}); try again", slug="worker-failed") from None
        except QueryFailed as exc:
            raise query_problem(task.sparql, exc) from None

    def graph_exists(self, iri: str) -> bool:
        """Whether ``iri`` is a live graph that holds or held triples (Graph Store reads)."""
        if not self.catalog().is_live(iri):
            return False
        if self.settings.store_url:
            return True  # live graphs of a remote store are the ones its loads uploaded
        return self.store.raw.contains_named_graph(ox.NamedNode(iri))

    async def ping(self) -> dict[str, Any]:
        assert self.runner is not None
        return await self.runner.run("ping", None, 5.0)

    # -- writing -------------------------------------------------------------------------------

    async def write(self, operation: Callable[[Any], Any]) -> Any:
        """Run ``operation(raw store)`` as the store's one writer, then move readers to the new state."""
        if not self.writable or self.store is None:
            raise Problem(403, "Updates disabled", "this service holds the store read-only", slug="updates-disabled")
        async with self._write_lock:
            try:
                return await asyncio.to_thread(operation, self.store.raw)
            finally:
                self.store.forget_catalog()
                self._changed()


def query_problem(text: str, exc: QueryFailed, *, what: str = "query") -> Problem:
    """A failed query or update as a problem: syntax errors with their line and column."""
    if exc.kind == "syntax":
        return syntax_problem(exc.message, what=what)
    if exc.kind == "OSError":  # the store or a remote service failed, not the request
        return Problem(
            503, f"{what.capitalize()} failed", f"the {what} could not be answered: {exc.message}", slug="io-error"
        )
    return Problem(
        400,
        f"{what.capitalize()} failed",
        f"the {what} could not be evaluated: {exc.message}",
        slug=f"{what}-failed",
    )


def syntax_problem(message: str, *, what: str = "query") -> Problem:
    import re

    match = re.match(r"error at (\d+):(\d+): (.*)", message, re.DOTALL)
    extensions: dict[str, Any] = {}
    if match:
        line, column, rest = int(match.group(1)), int(match.group(2)), match.group(3)
        rest = " ".join(rest.split())
        if rest.startswith("expected one of"):  # drop the grammar's character classes: noise to a reader
            rest = re.sub(r", \[.*$", ", …", rest)
        if len(rest) > 300:
            rest = rest[:300] + "…"
        detail = f"syntax error at line {line}, column {column}: {rest}"
        extensions = {"line": line, "column": column}
    else:
        detail = f"syntax error: {' '.join(message.split())}"
    return Problem(400, f"Malformed {what}", detail, slug=f"{what}-syntax", **extensions)
