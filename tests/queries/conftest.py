"""Stores with the bundled exports and every derived graph (summaries included), each loaded once
per session through the loader pipeline: the embedded store, and the remote store on each real
engine of tests/conftest.py (Oxigraph server, Virtuoso)."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from carbonkg.loaders.derived import all_derivations, refresh
from carbonkg.loaders.pipeline import load_paths
from carbonkg.store import EmbeddedStore, RemoteStore

REPO = Path(__file__).resolve().parents[2]
EXPORTS = REPO / "data" / "registry-exports"


def load_bundled(store) -> None:
    """The bundled exports through the loader pipeline, then every derivation."""
    results = list(load_paths(store, [EXPORTS]))
    assert all(r.status == "loaded" for r in results), [(r.path, r.errors[:2]) for r in results if r.status != "loaded"]
    refresh(store, all_derivations())


@pytest.fixture(scope="session")
def store(tmp_path_factory: pytest.TempPathFactory) -> EmbeddedStore:
    s = EmbeddedStore(tmp_path_factory.mktemp("query-store"))
    load_bundled(s)
    return s


def _contents(store: RemoteStore) -> list[tuple[str, str]]:
    return sorted((e.export_iri, e.graph_iri) for e in store.exports())


@pytest.fixture(scope="session")
def bundled_on() -> Iterator[Callable[[pytest.FixtureRequest, str], RemoteStore]]:
    """``bundled_on(request, engine)``: the remote store on that (shared) engine holding what
    ``store`` holds, loaded once per session; loaded again only if another test cleared or
    changed the engine meanwhile (the store tests clear it for each test)."""
    loaded: dict[str, tuple[RemoteStore, list[tuple[str, str]]]] = {}

    def get(request: pytest.FixtureRequest, engine: str) -> RemoteStore:
        if engine in loaded:
            remote, contents = loaded[engine]
            if _contents(remote) == contents:
                return remote
        else:
            remote = request.getfixturevalue(f"{engine}_server").store()
        remote.clear()
        load_bundled(remote)
        loaded[engine] = (remote, _contents(remote))
        return remote

    yield get
    for remote, _ in loaded.values():
        remote.close()
