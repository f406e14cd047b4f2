"""Fixtures of the server tests; the helpers they use are in ``server_helpers.py`` (this folder is
put on ``sys.path`` so that test modules can import it).

Tests that ask for a fixture named after a manifest (``protocol_entry``, ``gsp_entry``,
``rdf_update_entry``, ``sd_entry``) are parametrised over *every* entry of that manifest; each test
module keeps its own table of what this server answers to each entry and checks that the table
covers exactly the manifest's entries.
"""

from __future__ import annotations

import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parent))

from server_helpers import MANIFESTS, PROTOCOL_GRAPHS, TOKEN, build_store, manifest_entries, serve  # noqa: E402
from fastapi.testclient import TestClient  # noqa: E402


@pytest.fixture(scope="session")
def protocol_store(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The W3C protocol dataset: data1.nt–data3.nt as the named graphs the manifest names."""
    return build_store(tmp_path_factory.mktemp("protocol") / "store", dict(PROTOCOL_GRAPHS))


@pytest.fixture(scope="session")
def read_client(protocol_store: Path) -> Iterator[TestClient]:
    """A read-only service (the default configuration) over the protocol dataset."""
    with serve(protocol_store, query_workers=2) as client:
        yield client


@pytest.fixture(scope="session")
def write_client(tmp_path_factory: pytest.TempPathFactory) -> Iterator[TestClient]:
    """A service with updates enabled, behind the test token."""
    store = build_store(tmp_path_factory.mktemp("writable") / "store", dict(PROTOCOL_GRAPHS))
    with serve(store, allow_update=True, update_token=TOKEN, query_workers=2) as client:
        yield client


def pytest_generate_tests(metafunc: pytest.Metafunc) -> None:
    for fixture in MANIFESTS:
        if fixture in metafunc.fixturenames:
            entries = manifest_entries(fixture)
            metafunc.parametrize(fixture, entries, ids=[e.name for e in entries])




@pytest.fixture
def manifest():
    """The entries of a manifest by fixture name: ``manifest('protocol_entry')``."""
    return manifest_entries
