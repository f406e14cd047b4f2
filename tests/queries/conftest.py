"""A store with the bundled exports and every derived graph (summaries included), built once."""

from __future__ import annotations

from pathlib import Path

import pytest

from carbonkg.loaders.derived import all_derivations, refresh
from carbonkg.loaders.pipeline import load_paths
from carbonkg.store import EmbeddedStore

REPO = Path(__file__).resolve().parents[2]
EXPORTS = REPO / "data" / "registry-exports"


@pytest.fixture(scope="session")
def store(tmp_path_factory: pytest.TempPathFactory) -> EmbeddedStore:
    s = EmbeddedStore(tmp_path_factory.mktemp("query-store"))
    results = list(load_paths(s, [EXPORTS]))
    assert all(r.status == "loaded" for r in results), [(r.path, r.errors[:2]) for r in results if r.status != "loaded"]
    refresh(s, all_derivations())
    return s
