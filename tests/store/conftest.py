"""Stores on each engine for the store tests: the embedded store, and the real engines of
tests/conftest.py (Oxigraph server, Virtuoso; see ``sparql_engines.py``) cleared for each test.

An engine that cannot be found or started FAILS the tests that need it, with the reason: nothing
is skipped.
"""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

TESTS = str(Path(__file__).resolve().parents[1])
if TESTS not in sys.path:
    sys.path.append(TESTS)  # sparql_engines.py (also when bench_load.py imports this file)

from carbonkg.store import EmbeddedStore, RemoteStore  # noqa: E402
from sparql_engines import Engine, start_oxigraph, start_virtuoso  # noqa: E402, F401  (bench_load.py starts them from here)

ENGINES = ("embedded", "oxigraph", "virtuoso")


def _open_engine_store(request, engine: str, **options):
    """An empty store on ``engine``: a new in-memory embedded store, or a cleared remote one."""
    if engine == "embedded":
        return EmbeddedStore(None)
    server: Engine = request.getfixturevalue(f"{engine}_server")
    store = server.store(**options)
    store.clear()
    request.addfinalizer(store.close)
    return store


@pytest.fixture(scope="session")
def open_engine_store():
    """``open_engine_store(request, engine, **options)``: an empty store on that engine."""
    return _open_engine_store


@pytest.fixture(params=ENGINES)
def engine(request) -> str:
    return request.param


@pytest.fixture
def store(request, engine):
    return _open_engine_store(request, engine)


@pytest.fixture(params=ENGINES[1:])
def remote_engine(request) -> str:
    return request.param


@pytest.fixture
def remote_store(request, remote_engine) -> RemoteStore:
    return _open_engine_store(request, remote_engine)
