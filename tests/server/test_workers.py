"""The query worker pool on its own: answers of every size cross the worker's socket intact,
requests wait for a busy worker in turn (and give up at their deadline), a request abandoned
while waiting loses no worker, and a worker that died while idle is replaced."""

from __future__ import annotations

import asyncio
import json
import pickle
import tempfile
from collections.abc import Iterator
from pathlib import Path

import pytest

from carbonkg.server.benchmark import make_store
from carbonkg.server.dataset import DatasetSpec
from carbonkg.server.execute import QueryTask
from carbonkg.server.workers import PoolBusy, QueryPool, QueryTimeout, _Channel, _frame

SLOW = "SELECT (COUNT(*) AS ?n) { ?a ?b ?c . ?d ?e ?f . ?g ?h ?i }"  # 2000^3 solutions
FORMATS = {"solutions": "json", "boolean": "json", "graph": "turtle"}


@pytest.fixture(scope="module")
def store(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return make_store(tmp_path_factory.mktemp("workers") / "store", 2000)


@pytest.fixture
def spool() -> Iterator[str]:
    with tempfile.TemporaryDirectory(prefix="carbonkg-test-spool-") as folder:
        yield folder


def task(sparql: str) -> QueryTask:
    return QueryTask(sparql, "http://example.org/sparql", DatasetSpec(), FORMATS, 10_000)


def with_pool(store: Path, spool: str, size: int, body) -> object:
    async def main() -> object:
        pool = QueryPool(store, size, spool)
        await pool.start()
        try:
            return await body(pool)
        finally:
            await pool.close()

    return asyncio.run(main())


def test_frames_split_anyhow_are_read_whole() -> None:
    channel = _Channel()
    messages = [("ok", b"x" * 70_000), ("ok", None), ("ready", 1)]
    stream = b"".join(_frame(m) for m in messages)
    for i in range(0, len(stream), 4093):  # chunks that cut headers and pickles
        channel.data_received(stream[i:i + 4093])
    assert list(channel.replies) == messages
    channel.data_received(_frame(("ok", 2))[:3])
    channel.data_received(_frame(("ok", 2))[3:])
    assert channel.replies[-1] == ("ok", 2)
    assert pickle.loads(_frame(("ok", 3))[4:]) == ("ok", 3)


@pytest.mark.parametrize("rows", [1, 1500])  # a few bytes; ~100 KB, several socket reads, still inline
def test_answers_cross_the_socket_intact(store: Path, spool: str, rows: int) -> None:
    query = f"SELECT ?s ?o {{ GRAPH ?g {{ ?s ?p ?o }} }} ORDER BY ?s LIMIT {rows}"

    async def body(pool: QueryPool) -> list:
        return list(await asyncio.gather(*(pool.run("query", task(query), 30.0) for _ in range(4))))

    answers = with_pool(store, spool, 2, body)
    for answer in answers:
        assert answer.path is None and answer.count == rows
        assert len(json.loads(answer.data)["results"]["bindings"]) == rows
    assert len({a.data for a in answers}) == 1


def test_requests_wait_their_turn_and_give_up_at_their_deadline(store: Path, spool: str) -> None:
    async def body(pool: QueryPool) -> tuple:
        slow = asyncio.ensure_future(pool.run("query", task(SLOW), 1.0))
        await asyncio.sleep(0.1)  # the slow query has the only worker
        waiting = asyncio.ensure_future(pool.run("query", task("ASK {}"), 0.5))
        results = await asyncio.gather(slow, waiting, return_exceptions=True)
        after = await pool.run("query", task("ASK { ?s ?p ?o }"), 30.0)  # the replacement answers
        return results, after, pool.stats()

    (slow, waiting), after, stats = with_pool(store, spool, 1, body)
    assert isinstance(slow, QueryTimeout)
    assert isinstance(waiting, PoolBusy)
    assert after.data and json.loads(after.data)["boolean"] is True
    assert stats["killed"] == 1 and stats["alive"] == 1 and stats["idle"] == 1


def test_waiting_requests_are_served_in_order(store: Path, spool: str) -> None:
    order: list[int] = []

    async def body(pool: QueryPool) -> None:
        async def one(i: int) -> None:
            await pool.run("query", task(f"SELECT ?n {{ GRAPH ?g {{ ?s ?p ?o }} BIND({i} AS ?n) }} LIMIT 500"), 30.0)
            order.append(i)

        await asyncio.gather(*(one(i) for i in range(6)))

    with_pool(store, spool, 1, body)
    assert order == list(range(6))


def test_a_request_abandoned_while_waiting_loses_no_worker(store: Path, spool: str) -> None:
    async def body(pool: QueryPool) -> dict:
        first = asyncio.ensure_future(pool.run("query", task("SELECT * { GRAPH ?g { ?s ?p ?o } } LIMIT 2000"), 30.0))
        await asyncio.sleep(0)
        second = asyncio.ensure_future(pool.run("query", task("ASK {}"), 30.0))
        await asyncio.sleep(0)
        second.cancel()  # the client went away while waiting for the worker
        await first
        with pytest.raises(asyncio.CancelledError):
            await second
        await pool.run("query", task("ASK {}"), 30.0)
        return pool.stats()

    stats = with_pool(store, spool, 1, body)
    assert stats == {"size": 1, "alive": 1, "idle": 1, "killed": 0, "mode": "processes"}


def test_a_worker_handed_to_a_request_cancelled_before_it_ran_is_passed_on(store: Path, spool: str) -> None:
    async def body(pool: QueryPool) -> dict:
        loop = asyncio.get_running_loop()
        worker = pool._idle.pop()  # busy
        waiting = asyncio.ensure_future(pool._wait_for_worker(loop, loop.time() + 30))
        await asyncio.sleep(0)
        pool._release(worker)  # handed to the waiting request...
        waiting.cancel()  # ...which is cancelled before it runs
        with pytest.raises(asyncio.CancelledError):
            await waiting
        return pool.stats()

    assert with_pool(store, spool, 1, body)["idle"] == 1


def test_a_worker_that_died_while_idle_is_replaced(store: Path, spool: str) -> None:
    async def body(pool: QueryPool) -> tuple:
        (worker,) = pool._workers
        worker.process.kill()
        worker.process.wait()
        await asyncio.sleep(0.1)  # the loop sees the socket close
        answer = await pool.run("query", task("ASK {}"), 30.0)
        return answer, pool.stats()

    answer, stats = with_pool(store, spool, 1, body)
    assert json.loads(answer.data)["boolean"] is True
    assert stats["killed"] == 1 and stats["alive"] == 1


@pytest.mark.parametrize("dataset", [DatasetSpec(), DatasetSpec(("http://g/1",), ("http://g/2", "http://g/3")),
                                     DatasetSpec(store_default=True)])
def test_tasks_and_answers_cross_as_plain_values(dataset: DatasetSpec) -> None:
    """No class is pickled on the worker's socket (slotted dataclasses pickle ~10× slower)."""
    from carbonkg.server.execute import Answer

    sent = QueryTask("SELECT * {}", "http://example.org/sparql", dataset, FORMATS, None, "doc", False)
    wire = pickle.dumps(sent.to_wire(), pickle.HIGHEST_PROTOCOL)
    assert b"carbonkg" not in wire
    assert QueryTask.from_wire(pickle.loads(wire)) == sent
    answer = Answer("solutions", "json", count=3, truncated=True, data=b"{}", size=2)
    wire = pickle.dumps(answer.to_wire(), pickle.HIGHEST_PROTOCOL)
    assert b"carbonkg" not in wire
    assert Answer.from_wire(pickle.loads(wire)) == answer


class _CompactedOnce:
    """An executor whose snapshot lost a file to the writer's compaction on its first query
    (synthetic: the real failure depends on RocksDB's timing)."""

    def __init__(self, error: Exception) -> None:
        self.error, self.reopened, self.runs = error, 0, 0

    def refresh(self, generation: int) -> None:
        pass

    def reopen(self) -> None:
        self.reopened += 1

    def run(self, task, out):
        from carbonkg.server.execute import Answer

        self.runs += 1
        out.write(b"partial")
        if self.runs == 1:
            raise self.error
        out.write(b" whole")
        return Answer("solutions", "json")


def test_a_snapshot_whose_files_were_compacted_away_is_reopened_and_the_query_answered() -> None:
    from carbonkg.server.workers import _handle

    gone = OSError("Corruption: IO error: No such file or directory: While open a file for random read: /s/000123.sst")
    executor = _CompactedOnce(gone)
    status, answer = _handle(executor, "query", None, 1, None, 1 << 20)
    assert status == "ok" and answer.data == b"partial whole"  # the half-written first attempt is dropped
    assert executor.reopened == 1 and executor.runs == 2
    # any other failure is reported, not retried
    other = _CompactedOnce(OSError("the disk is full"))
    assert _handle(other, "query", None, 1, None, 1 << 20)[:2] == ("error", "OSError") and other.runs == 1
