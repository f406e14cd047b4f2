"""Fixtures shared by the test folders: the real SPARQL engines (Oxigraph server, Virtuoso) on
127.0.0.1, started once per session by ``sparql_engines.py`` beside this file. Tests that load an
engine clear it first (see tests/store/conftest.py and tests/queries/conftest.py)."""

from __future__ import annotations

import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

HERE = str(Path(__file__).resolve().parent)
if HERE not in sys.path:
    sys.path.append(HERE)  # appended: the test folders' own modules keep their precedence

from sparql_engines import Engine, start_oxigraph, start_virtuoso  # noqa: E402


@pytest.fixture(scope="session")
def start_engine():
    """``start_engine("oxigraph", folder, *extra_arguments)``: one more engine, for a test's own use."""

    def start(name: str, folder: Path, *extra: str) -> Engine:
        if name != "oxigraph":
            raise ValueError(name)
        return start_oxigraph(folder, name=f"oxigraph {' '.join(extra)}", extra=extra)

    return start


@pytest.fixture(scope="session")
def oxigraph_server(tmp_path_factory) -> Iterator[Engine]:
    engine = start_oxigraph(tmp_path_factory.mktemp("oxigraph"))
    yield engine
    engine.stop()


@pytest.fixture(scope="session")
def virtuoso_server(tmp_path_factory) -> Iterator[Engine]:
    engine = start_virtuoso(tmp_path_factory.mktemp("virtuoso"))
    yield engine
    engine.stop()
