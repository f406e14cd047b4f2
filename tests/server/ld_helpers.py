"""Helpers of the linked-data, VoID/DCAT and metrics tests: the 24 bundled registry exports
loaded once per test session (by the loaders, without derived graphs), and ways to read the
answers back as RDF."""

from __future__ import annotations

import atexit
import functools
import gc
import shutil
import tempfile
from pathlib import Path

import pyoxigraph as ox

from carbonkg.loaders.pipeline import iter_files, load_paths
from carbonkg.store.embedded import EmbeddedStore

EXPORTS = Path(__file__).resolve().parents[2] / "data" / "registry-exports"
CK = "https://w3id.org/carbonkg/ontology#"
CSVW = "http://www.w3.org/ns/csvw#"
RDF_TYPE = "http://www.w3.org/1999/02/22-rdf-syntax-ns#type"
RDF_MEDIA = {
    "text/turtle": "turtle",
    "application/ld+json": "json-ld",
    "application/n-triples": "nt",
    "application/rdf+xml": "xml",
}


def export_files() -> list[Path]:
    return list(iter_files([EXPORTS]))


@functools.cache
def loaded_store() -> Path:
    """A store with every bundled export loaded (built once per test process)."""
    folder = Path(tempfile.mkdtemp(prefix="carbonkg-ld-tests-"))
    atexit.register(shutil.rmtree, folder, True)
    path = folder / "store"
    store = EmbeddedStore(path)
    results = list(load_paths(store, [EXPORTS]))
    bad = [f"{r.path}: {[str(e) for e in r.errors]}" for r in results if r.status != "loaded"]
    assert not bad, bad
    store.flush()
    del store
    gc.collect()
    return path


def essence(content_type: str) -> str:
    return content_type.split(";")[0].strip().lower()


def rdflib_graph(response):
    """The body of an RDF answer parsed with rdflib (its own parsers, not the server's)."""
    import rdflib

    graph = rdflib.Graph()
    graph.parse(data=response.content, format=RDF_MEDIA[essence(response.headers["content-type"])])
    return graph


def to_rdflib(term: ox.NamedNode | ox.Literal | ox.BlankNode):
    import rdflib

    if isinstance(term, ox.NamedNode):
        return rdflib.URIRef(term.value)
    if isinstance(term, ox.BlankNode):
        return rdflib.BNode(term.value)
    if term.language:
        return rdflib.Literal(term.value, lang=term.language)
    if term.datatype.value == "http://www.w3.org/2001/XMLSchema#string":
        return rdflib.Literal(term.value)  # a simple literal, as rdflib reads it
    return rdflib.Literal(term.value, datatype=rdflib.URIRef(term.datatype.value))


def select(client, query: str) -> list[dict]:
    """A SELECT through /sparql, as ``{variable: pyoxigraph term}`` rows."""
    response = client.get("/sparql", params={"query": query}, headers={"Accept": "application/sparql-results+json"})
    assert response.status_code == 200, response.text
    results = ox.parse_query_results(response.content, ox.QueryResultsFormat.JSON)
    names = [v.value for v in results.variables]
    return [{n: s[n] for n in names if s[n] is not None} for s in results]


def count(client, query: str) -> int:
    rows = select(client, query)
    return int(rows[0]["n"].value) if rows and "n" in rows[0] else 0
