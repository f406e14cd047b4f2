"""Helpers of the server tests (imported by conftest.py and the test modules): stores built in
tmp folders, apps around them, the W3C manifests read into HTTP exchanges, response checks."""

from __future__ import annotations

import contextlib
import gc
import re
import warnings
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import pyoxigraph as ox

warnings.filterwarnings("ignore", message=".*httpx2.*")  # starlette's TestClient notice

from fastapi.testclient import TestClient  # noqa: E402

from carbonkg.server.app import create_app  # noqa: E402
from carbonkg.server.dataset import register_user_graphs  # noqa: E402
from carbonkg.server.settings import Settings  # noqa: E402
from carbonkg.store.embedded import EmbeddedStore  # noqa: E402

W3C = Path(__file__).resolve().parents[1] / "data" / "w3c"
TOKEN = "s3cret-test-token"
AUTH = {"Authorization": f"Bearer {TOKEN}"}
KASEI = "http://kasei.us/2009/09/sparql/data/"
PROTOCOL_GRAPHS = {f"{KASEI}data{n}.rdf": W3C / "protocol" / f"data{n}.nt" for n in (1, 2, 3)}

# -- stores and apps ---------------------------------------------------------------------------


def add_user_graph(store: EmbeddedStore, iri: str, data: Path | bytes, fmt: ox.RdfFormat = ox.RdfFormat.N_TRIPLES) -> None:
    """Put a graph into a (writable) store as the service's Graph Store would: content + registration."""
    graph = ox.NamedNode(iri)
    source = data.read_bytes() if isinstance(data, Path) else data
    quads = [ox.Quad(q.subject, q.predicate, q.object, graph) for q in ox.parse(source, fmt)]
    store.raw.extend(quads)
    store.raw.update(register_user_graphs([iri]))
    store.forget_catalog()


def build_store(path: Path, graphs: dict[str, Path | bytes] | None = None) -> Path:
    store = EmbeddedStore(path)
    for iri, data in (graphs or {}).items():
        add_user_graph(store, iri, data)
    store.flush()
    del store
    gc.collect()
    return path


def settings_for(store: Path, **overrides: object) -> Settings:
    values: dict[str, object] = {"store_path": store, "load_static_graphs": False, "query_workers": 1}
    values.update(overrides)
    return Settings(**values)


@contextlib.contextmanager
def serve(store: Path, *, base_url: str = "http://testserver", **overrides: object) -> Iterator[TestClient]:
    app = create_app(settings_for(store, **overrides))
    with TestClient(app, base_url=base_url) as client:
        yield client


def reset_writable(client: TestClient) -> None:
    """Back to the protocol dataset: every user graph dropped, data1–data3 put again."""
    r = client.post("/update", content="DROP ALL", headers={**AUTH, "Content-Type": "application/sparql-update"})
    assert r.status_code == 204, r.text
    for iri, path in PROTOCOL_GRAPHS.items():
        r = client.put("/graph", params={"graph": iri}, content=path.read_bytes(),
                       headers={**AUTH, "Content-Type": "application/n-triples"})
        assert r.status_code == 201, r.text


# -- W3C manifests -----------------------------------------------------------------------------

MF = "http://www.w3.org/2001/sw/DataAccess/tests/test-manifest#"
HT = "http://www.w3.org/2011/http#"
HTS = "http://www.w3.org/2011/http-statusCodes#"
CNT = "http://www.w3.org/2011/content#"
RDFS = "http://www.w3.org/2000/01/rdf-schema#"
DAWGT = "http://www.w3.org/2001/sw/DataAccess/tests/test-dawg#"
STATUS_NAMES = {"OK": 200, "Created": 201, "NoContent": 204, "NotFound": 404}


@dataclass
class Exchange:
    """One HTTP request of a manifest entry and what the manifest expects of its response."""

    method: str
    path: str
    headers: list[tuple[str, str]] = field(default_factory=list)
    body: bytes | None = None
    statuses: frozenset = frozenset()  # ints, or '2xx'/'3xx'/'4xx' classes
    boolean: bool | None = None
    result_format: str | None = None  # boolean | tabular | RDF
    response_headers: list[tuple[str, str]] = field(default_factory=list)
    response_body: str | None = None
    location_var: str | None = None

    def allows(self, status: int) -> bool:
        return status in self.statuses or f"{status // 100}xx" in self.statuses


@dataclass
class Entry:
    iri: str
    name: str
    title: str
    exchanges: list[Exchange]
    approval: str = ""
    comment: str = ""

    def __repr__(self) -> str:
        return self.name


def _status(term: str) -> int | str:
    local = term.rsplit("#", 1)[-1]
    match = re.fullmatch(r"StatusCode(\dxx)", local)
    return match.group(1) if match else STATUS_NAMES[local]


def _read_graph(path: Path):
    import rdflib

    graph = rdflib.Graph()
    graph.parse(path, format="turtle")
    return graph


def read_manifest(path: Path) -> list[Entry]:
    """Every entry of a manifest (following mf:include), in order, with its HTTP exchanges."""
    import rdflib
    from rdflib.collection import Collection

    graph = _read_graph(path)
    U = rdflib.URIRef
    manifest = next(graph.subjects(U(MF + "include"), None), None) or next(
        graph.subjects(U(MF + "entries"), None)
    )
    included = graph.value(manifest, U(MF + "include"))
    if included is not None:
        entries: list[Entry] = []
        for part in Collection(graph, included):
            entries += read_manifest(path.parent / Path(str(part)).name)
        return entries
    entries = []
    for node in Collection(graph, graph.value(manifest, U(MF + "entries"))):
        exchanges = []
        action = graph.value(node, U(MF + "action"))
        requests = graph.value(action, U(HT + "requests")) if action is not None else None
        for request in Collection(graph, requests) if requests is not None else []:
            exchanges.append(_exchange(graph, request))
        comments = [str(c) for c in graph.objects(node, U(RDFS + "comment"))]
        prose = next((c for c in comments if "#### Request" in c), "")
        entries.append(
            Entry(
                iri=str(node),
                name=str(node).rsplit("#", 1)[-1],
                title=str(graph.value(node, U(MF + "name")) or ""),
                exchanges=exchanges or _prose_exchanges(prose),
                approval=str(graph.value(node, U(DAWGT + "approval")) or "").rsplit("#", 1)[-1],
                comment=prose,
            )
        )
    return entries


def _headers(graph, node) -> list[tuple[str, str]]:
    import rdflib
    from rdflib.collection import Collection

    U = rdflib.URIRef
    headers = graph.value(node, U(HT + "headers"))
    if headers is None:
        return []
    return [
        (str(graph.value(h, U(HT + "fieldName"))), str(graph.value(h, U(HT + "fieldValue"))))
        for h in Collection(graph, headers)
    ]


def _body(graph, node) -> tuple[bytes | None, str | None]:
    import rdflib

    U = rdflib.URIRef
    body = graph.value(node, U(HT + "body"))
    if body is None:
        return None, None
    text = str(graph.value(body, U(CNT + "chars")))
    encoding = str(graph.value(body, U(CNT + "characterEncoding")) or "UTF-8")
    return text.encode(encoding.lower()), text


def _exchange(graph, request) -> Exchange:
    import rdflib

    U = rdflib.URIRef
    response = graph.value(request, U(HT + "resp"))
    body, _ = _body(graph, request)
    _, response_text = _body(graph, response)
    boolean = graph.value(response, U(MF + "expectedBoolean"))
    result_format = graph.value(response, U(MF + "expectedFormat"))
    location = graph.value(response, U(MF + "expectedLocation"))
    return Exchange(
        method=str(graph.value(request, U(HT + "methodName"))),
        path=str(graph.value(request, U(HT + "absolutePath"))),
        headers=_headers(graph, request),
        body=body,
        statuses=frozenset(_status(str(s)) for s in graph.objects(response, U(MF + "expectedStatus"))),
        boolean=None if boolean is None else bool(boolean.toPython()),
        result_format=None if result_format is None else str(result_format),
        response_headers=_headers(graph, response),
        response_body=response_text,
        location_var=None if location is None else str(location),
    )


def _prose_exchanges(prose: str) -> list[Exchange]:
    """The request and response written as raw HTTP in a deprecated manifest's comment."""
    if not prose:
        return []
    request_part, _, response_part = prose.partition("#### Response")
    request_text = _dedent(request_part.split("#### Request", 1)[1])
    response_text = _dedent(response_part)
    head, _, body = request_text.partition("\n\n")
    lines = head.splitlines()
    method, target, _ = lines[0].split(" ", 2)
    headers = [tuple(p.strip() for p in line.split(":", 1)) for line in lines[1:] if ":" in line]
    response_head, _, response_body = response_text.partition("\n\n")
    response_lines = response_head.splitlines()
    status = int(response_lines[0].split(" ", 1)[0])
    response_headers = [tuple(p.strip() for p in line.split(":", 1)) for line in response_lines[1:] if ":" in line]
    location = next((v for k, v in response_headers if k.lower() == "location"), None)
    return [
        Exchange(
            method=method,
            path=target,
            headers=[h for h in headers if h[0].lower() != "host"],  # type: ignore[misc]
            body=body.encode() if body.strip() else None,
            statuses=frozenset({status}),
            response_headers=response_headers,  # type: ignore[arg-type]
            response_body=response_body if response_body.strip() else None,
            location_var=location,
        )
    ]


def _dedent(text: str) -> str:
    lines = text.strip("\n").splitlines()
    return "\n".join(line[4:] if line.startswith("    ") else line.strip() for line in lines).strip() + "\n"


MANIFESTS = {
    "protocol_entry": W3C / "protocol" / "manifest.ttl",
    "sd_entry": W3C / "service-description" / "manifest.ttl",
    "gsp_entry": W3C / "graph-store-protocol" / "manifest.ttl",
    "rdf_update_entry": W3C / "http-rdf-update" / "manifest.ttl",
}
_CACHE: dict[str, list[Entry]] = {}


def manifest_entries(fixture: str) -> list[Entry]:
    if fixture not in _CACHE:
        _CACHE[fixture] = read_manifest(MANIFESTS[fixture])
    return _CACHE[fixture]


# -- checking responses ------------------------------------------------------------------------

RESULT_TYPES = {
    "boolean": {"application/sparql-results+json", "application/sparql-results+xml"},
    "tabular": {
        "application/sparql-results+json",
        "application/sparql-results+xml",
        "text/csv",
        "text/tab-separated-values",
    },
    "RDF": {"text/turtle", "application/n-triples", "application/rdf+xml", "application/ld+json"},
}


def essence(content_type: str | None) -> str:
    return (content_type or "").split(";")[0].strip().lower()


def parse_boolean(response) -> bool:
    kind = essence(response.headers.get("content-type"))
    if kind == "application/sparql-results+json":
        return bool(response.json()["boolean"])
    if kind == "application/sparql-results+xml":
        return bool(ox.parse_query_results(response.content, ox.QueryResultsFormat.XML))
    raise AssertionError(f"not a boolean result: {kind}")


def isomorphic(a: bytes, a_format: ox.RdfFormat, b: bytes, b_format: ox.RdfFormat, base: str | None = None) -> bool:
    def canonical(data: bytes, fmt: ox.RdfFormat) -> ox.Dataset:
        dataset = ox.Dataset(q for q in ox.parse(data, fmt, base_iri=base))
        dataset.canonicalize(ox.CanonicalizationAlgorithm.UNSTABLE)
        return dataset

    return canonical(a, a_format) == canonical(b, b_format)
