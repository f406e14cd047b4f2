"""RemoteStore without an engine: what it sends, how it reads answers, and every way an answer
can come back incomplete (headers, bodies, broken or silent connections on 127.0.0.1)."""

from __future__ import annotations

import re
import socket
import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from urllib.parse import parse_qs

import httpx
import pyoxigraph as ox
import pytest

from carbonkg.store import EmbeddedStore, GraphStore, RemoteStore, RemoteStoreError, RemoteTriples, open_store
from carbonkg.store.catalog import CATALOG_BASE, MERGED_GRAPH
from carbonkg.store.remote import EMPTY_GRAPH, _slices, query_form

JSON = "application/sparql-results+json"
SELECT_BODY = b'{"head":{"vars":["s"]},"results":{"bindings":[{"s":{"type":"uri","value":"http://example.org/a"}}]}}'
G = ["http://example.org/g"]


class FakeEngine:
    """A MockTransport handler: records requests, answers with what a test sets."""

    def __init__(self, respond: Callable[[httpx.Request], httpx.Response] | None = None) -> None:
        self.requests: list[httpx.Request] = []
        self.respond = respond or (lambda request: httpx.Response(200, headers={"Content-Type": JSON}, content=SELECT_BODY))

    def __call__(self, request: httpx.Request) -> httpx.Response:
        request.read()
        self.requests.append(request)
        return self.respond(request)

    def store(self, **options) -> RemoteStore:
        return RemoteStore("http://engine.test/query", "http://engine.test/update", "http://engine.test/store",
                           transport=httpx.MockTransport(self), **options)


def form(request: httpx.Request) -> dict[str, list[str]]:
    return parse_qs(request.content.decode(), keep_blank_values=True)


# -- query form ----------------------------------------------------------------------------------


@pytest.mark.parametrize("sparql, expected", [
    ("SELECT * WHERE { ?s ?p ?o }", "SELECT"),
    ("  ask {}", "ASK"),
    ("PREFIX ck: <https://w3id.org/carbonkg/ontology#>\n# a comment with SELECT in it\nCONSTRUCT WHERE { ?s ck:x ?o }", "CONSTRUCT"),
    ("BASE <http://example.org/#b>\nPREFIX : <http://example.org/>\nprefix ex:<http://ex/#>DESCRIBE :a", "DESCRIBE"),
    ("#SELECT\nPREFIX a: <http://a/>  Select ?x {}", "SELECT"),
])
def test_query_form(sparql: str, expected: str) -> None:
    assert query_form(sparql) == expected


@pytest.mark.parametrize("sparql", ["INSERT DATA { <a> <b> <c> }", "", "PREFIX x: <http://x/>", "SELECTED"])
def test_query_form_rejects_what_is_no_query(sparql: str) -> None:
    with pytest.raises(SyntaxError):
        query_form(sparql)


# -- slices --------------------------------------------------------------------------------------


def _document(lines: int) -> bytes:
    return b"".join(b'<http://example.org/s%d> <http://example.org/p> "value %d" .\n' % (i, i) for i in range(lines))


@pytest.mark.parametrize("size", [1, 50, 64, 1000, 1 << 20])
def test_slices_are_line_aligned_and_complete(tmp_path: Path, size: int) -> None:
    data = _document(200) + b'<http://example.org/long> <http://example.org/p> "' + b"x" * 3000 + b'" .\n' + _document(3)
    path = tmp_path / "doc.nt"
    path.write_bytes(data)
    for source in (data, path):
        pieces = list(_slices(source, size))
        assert b"".join(pieces) == data
        for piece in pieces:
            assert piece.endswith(b"\n")
            assert len(piece) <= size or piece.count(b"\n") == 1  # only a single long line exceeds
            assert len(list(ox.parse(piece, ox.RdfFormat.N_TRIPLES))) == piece.count(b"\n")


def test_slices_without_final_newline(tmp_path: Path) -> None:
    data = _document(10).rstrip(b"\n")
    path = tmp_path / "doc.nt"
    path.write_bytes(data)
    assert b"".join(_slices(data, 100)) == data
    assert b"".join(_slices(path, 100)) == data
    assert list(_slices(b"", 100)) == []


class FakeCatalog:
    """Answers uploads with 201, and pointer queries with the pointer the last switch set."""

    def __init__(self) -> None:
        self.pointer: tuple[str, str] | None = None

    def __call__(self, request: httpx.Request) -> httpx.Response:
        if request.url.path == "/store":
            return httpx.Response(201)
        if request.url.path == "/update":
            update = form(request)["update"][0]
            if update.lstrip().startswith("DELETE {"):
                inserted = update[update.index("INSERT"):]
                graph = inserted.split("currentGraph> <", 1)[1].split(">", 1)[0]
                sha = inserted.split('sha256> "', 1)[1].split('"', 1)[0]
                self.pointer = (graph, sha)
            return httpx.Response(200)
        bindings = "" if self.pointer is None else (
            '{"g":{"type":"uri","value":"%s"},"s":{"type":"literal","value":"%s"}}' % self.pointer)
        return httpx.Response(200, headers={"Content-Type": JSON},
                              content=b'{"head":{"vars":["g","s"]},"results":{"bindings":[%s]}}' % bindings.encode())


def test_upload_in_slices_put_then_post(tmp_path: Path) -> None:
    engine = FakeEngine(FakeCatalog())
    store = engine.store(slice_bytes=1000)
    path = tmp_path / "triples.nt"
    path.write_bytes(_document(100))
    graph = store.replace_export("https://w3id.org/carbonkg/id/verra/export/x.csv", "ab" * 32, path)
    uploads = [r for r in engine.requests if r.url.path == "/store"]
    assert [r.method for r in uploads] == ["PUT"] + ["POST"] * (len(uploads) - 1) and len(uploads) > 5
    assert all(r.url.params["graph"] == graph for r in uploads)
    assert all(r.headers["Content-Type"] == "application/n-triples" for r in uploads)
    assert b"".join(r.content for r in uploads) == path.read_bytes()
    updates = [form(r)["update"][0] for r in engine.requests if r.url.path == "/update"]
    # an engine without a merged graph gets one first (empty here: nothing is live yet)
    assert updates[:2] == [f"DROP SILENT GRAPH <{MERGED_GRAPH}>",
                           f"INSERT DATA {{ GRAPH <{CATALOG_BASE}> {{ <{MERGED_GRAPH}> <https://w3id.org/carbonkg/store#complete> true }} }}"]
    updates = updates[2:]
    # record the version, then switch the pointer and add the version to the merged graph in one update
    assert "versionOf" in updates[0] and "INSERT DATA" in updates[0]
    assert updates[1].lstrip().startswith("DELETE") and "currentGraph" in updates[1] and graph in updates[1]
    assert f"INSERT {{ GRAPH <{MERGED_GRAPH}> {{ ?s ?p ?o }} }} WHERE {{ GRAPH <{graph}>" in updates[1]
    assert len(updates) == 2  # nothing to drop: there was no previous version


def test_a_switch_the_engine_ignored_raises() -> None:
    """An engine that answers 200 to the pointer update but does not apply it (Virtuoso 7.2 does
    so with some OPTIONAL patterns) is caught: the pointer is read back."""
    catalog = FakeCatalog()
    engine = FakeEngine(lambda request: httpx.Response(200) if request.url.path == "/update" else catalog(request))
    with pytest.raises(RemoteStoreError, match="did not move"):
        engine.store().replace_export("https://w3id.org/carbonkg/id/verra/export/x.csv", "ab" * 32, _document(3))


def test_blank_nodes_go_in_one_piece() -> None:
    engine = FakeEngine(FakeCatalog())
    store = engine.store(slice_bytes=100)
    data = _document(20) + b"_:b1 <http://example.org/p> _:b2 .\n" + _document(20)
    store.replace_export("https://w3id.org/carbonkg/id/verra/export/x.csv", "ab" * 32, data)
    uploads = [r for r in engine.requests if r.url.path == "/store"]
    assert [r.method for r in uploads] == ["PUT"] and uploads[0].content == data


# -- what a query sends ----------------------------------------------------------------------------


def test_query_names_the_live_graphs_and_nothing_else() -> None:
    live = b'{"head":{"vars":["g"]},"results":{"bindings":[{"g":{"type":"uri","value":"http://example.org/g1"}},{"g":{"type":"uri","value":"http://example.org/g2"}}]}}'
    engine = FakeEngine(lambda request: httpx.Response(200, headers={"Content-Type": JSON},
                                                       content=live if "UNION" in form(request)["query"][0] else SELECT_BODY))
    store = engine.store()
    rows = store.query("SELECT ?s WHERE { ?s ?p ?o }")
    assert isinstance(rows, ox.QuerySolutions) and [r["s"] for r in rows] == [ox.NamedNode("http://example.org/a")]
    catalog, query, verify = (form(r) for r in engine.requests)
    assert catalog["default-graph-uri"] == verify["default-graph-uri"] == ["https://w3id.org/carbonkg/graph/catalog"]
    assert query["default-graph-uri"] == query["named-graph-uri"] == ["http://example.org/g1", "http://example.org/g2"]
    assert engine.requests[1].headers["Accept"].startswith(JSON)
    assert engine.requests[1].method == "POST"
    assert engine.requests[1].headers["Content-Type"] == "application/x-www-form-urlencoded"
    store.query("SELECT ?s WHERE { ?s ?p ?o }")
    assert len(engine.requests) == 5  # the list read after an answer serves the next query (live_graphs_ttl)
    unverified = FakeEngine(engine.respond)
    unverified.store(verify_live_graphs=False).query("SELECT ?s WHERE { ?s ?p ?o }")
    assert len(unverified.requests) == 2


def test_query_asked_again_when_its_graphs_were_replaced_meanwhile() -> None:
    def live(*graphs: str) -> bytes:
        bindings = ",".join('{"g":{"type":"uri","value":"%s"}}' % g for g in graphs)
        return b'{"head":{"vars":["g"]},"results":{"bindings":[%s]}}' % bindings.encode()

    catalog_answers = iter([live("http://example.org/v1", "http://example.org/s"),   # before the query
                            live("http://example.org/v2", "http://example.org/s"),   # after: v1 replaced
                            live("http://example.org/v2", "http://example.org/s", "http://example.org/new")])

    def respond(request: httpx.Request) -> httpx.Response:
        body = next(catalog_answers) if "UNION" in form(request)["query"][0] else SELECT_BODY
        return httpx.Response(200, headers={"Content-Type": JSON}, content=body)

    engine = FakeEngine(respond)
    engine.store().query("SELECT ?s WHERE { ?s ?p ?o }")
    asked = [form(r)["default-graph-uri"] for r in engine.requests if "UNION" not in form(r)["query"][0]]
    assert asked == [["http://example.org/s", "http://example.org/v1"], ["http://example.org/s", "http://example.org/v2"]]


def test_query_gives_up_when_graphs_keep_changing() -> None:
    counter = iter(range(100))

    def respond(request: httpx.Request) -> httpx.Response:
        if "UNION" in form(request)["query"][0]:
            body = b'{"head":{"vars":["g"]},"results":{"bindings":[{"g":{"type":"uri","value":"http://example.org/v%d"}}]}}' % next(counter)
        else:
            body = SELECT_BODY
        return httpx.Response(200, headers={"Content-Type": JSON}, content=body)

    with pytest.raises(RemoteStoreError, match="kept changing"):
        FakeEngine(respond).store().query("SELECT ?s WHERE { ?s ?p ?o }")


def test_no_live_graph_means_an_empty_dataset() -> None:
    empty = b'{"head":{"vars":["g"]},"results":{"bindings":[]}}'
    engine = FakeEngine(lambda request: httpx.Response(200, headers={"Content-Type": JSON}, content=empty))
    engine.store().query("SELECT ?s WHERE { ?s ?p ?o }")
    query = form(engine.requests[1])
    assert query["default-graph-uri"] == query["named-graph-uri"] == [EMPTY_GRAPH]


def test_construct_asks_for_ntriples_and_returns_triples() -> None:
    body = b'<http://example.org/a> <http://example.org/p> "x" .\n<http://example.org/a> <http://example.org/p> "y" .\n'
    engine = FakeEngine(lambda request: httpx.Response(200, headers={"Content-Type": "application/n-triples; charset=UTF-8"}, content=body))
    result = engine.store().query("CONSTRUCT WHERE { ?s ?p ?o }", default_graph=G, named_graphs=G)
    assert engine.requests[0].headers["Accept"].startswith("application/n-triples")
    assert isinstance(result, RemoteTriples) and len(result) == 2
    assert all(isinstance(t, ox.Triple) for t in result)
    assert result.serialize(format=ox.RdfFormat.N_TRIPLES) == body
    assert set(ox.parse(result.serialize(format=ox.RdfFormat.TURTLE), ox.RdfFormat.TURTLE)) == set(ox.parse(body, ox.RdfFormat.N_TRIPLES))


def test_query_options() -> None:
    engine = FakeEngine()
    store = engine.store()
    store.query("SELECT * {}", default_graph=ox.DefaultGraph(), named_graphs=[ox.NamedNode(G[0])], params={"timeout": 1000})
    sent = form(engine.requests[0])
    assert sent["default-graph-uri"] == [EMPTY_GRAPH] and sent["named-graph-uri"] == G and sent["timeout"] == ["1000"]
    with pytest.raises(TypeError, match="use_default_graph_as_union"):
        store.query("SELECT * {}", use_default_graph_as_union=True)
    with pytest.raises(TypeError, match="query"):
        store.query("SELECT * {}", default_graph=G, named_graphs=G, params={"query": "x"})


# -- answers that are incomplete or wrong ----------------------------------------------------------


@pytest.mark.parametrize("status, headers, body, message", [
    (200, {"X-SPARQL-MaxRows": "10000"}, SELECT_BODY, r"row cap \(10000 rows, X-SPARQL-MaxRows\)"),
    (200, {"X-SQL-State": "S1TAT", "X-SQL-Message": "RC...: Returning incomplete results, query interrupted by result timeout."},
     SELECT_BODY, r"incomplete answer \(X-SQL-State S1TAT: RC\.\.\.: Returning incomplete results"),
    (206, {}, SELECT_BODY, r"206 Partial Content"),
    (200, {}, b'{"head":{"vars":["s"]},"results":{"bindings":[The SPARQL operation has been cancelled',
     r"incomplete or malformed.*The SPARQL operation has been cancelled"),
    (200, {"Content-Type": "text/html"}, b"<html>hello</html>", r"unexpected type 'text/html'"),
    (500, {"Content-Type": "text/html"}, b"<html><body><h1>Error</h1><pre>SR171: Transaction timed out</pre></body></html>",
     r"answered 500 Internal Server Error: Error SR171: Transaction timed out"),
    (400, {"Content-Type": "text/plain"}, b"Parse error at line 1", r"answered 400 Bad Request: Parse error"),
])
def test_incomplete_or_failed_answers_raise(status, headers, body, message) -> None:
    engine = FakeEngine(lambda request: httpx.Response(status, headers={"Content-Type": JSON, **headers}, content=body))
    with pytest.raises(RemoteStoreError, match=message) as caught:
        engine.store().query("SELECT ?s WHERE { ?s ?p ?o }", default_graph=G, named_graphs=G)
    assert caught.value.url is not None


def test_sql_state_success_is_fine() -> None:
    engine = FakeEngine(lambda request: httpx.Response(200, headers={"Content-Type": JSON, "X-SQL-State": "00000"}, content=SELECT_BODY))
    assert len(list(engine.store().query("SELECT ?s {}", default_graph=G, named_graphs=G))) == 1


def test_ntriples_cut_short_raises() -> None:
    body = b'<http://example.org/a> <http://example.org/p> "x" .\nThe SPARQL operation has been cancelled'
    engine = FakeEngine(lambda request: httpx.Response(200, headers={"Content-Type": "application/n-triples"}, content=body))
    with pytest.raises(RemoteStoreError, match="incomplete or malformed"):
        engine.store().query("CONSTRUCT WHERE { ?s ?p ?o }", default_graph=G, named_graphs=G)


def test_kind_of_answer_must_fit_the_query() -> None:
    engine = FakeEngine(lambda request: httpx.Response(200, headers={"Content-Type": JSON}, content=b'{"head":{},"boolean":true}'))
    assert bool(engine.store().query("ASK {}", default_graph=G, named_graphs=G)) is True
    with pytest.raises(RemoteStoreError, match="QueryBoolean"):
        engine.store().query("SELECT * {}", default_graph=G, named_graphs=G)


def test_update_and_upload_failures_raise() -> None:
    engine = FakeEngine(lambda request: httpx.Response(403, content=b"SQ110: Permission denied"))
    store = engine.store()
    with pytest.raises(RemoteStoreError, match="403 Forbidden: SQ110: Permission denied") as caught:
        store._update("DROP SILENT GRAPH <http://example.org/g>")
    assert caught.value.status == 403
    with pytest.raises(RemoteStoreError, match="Graph Store PUT"):
        store._gsp("PUT", "http://example.org/g", b"")


def test_read_only_store_sends_no_write() -> None:
    engine = FakeEngine(lambda request: httpx.Response(200, headers={"Content-Type": JSON},
                                                       content=b'{"head":{"vars":["g","s"]},"results":{"bindings":[]}}'))
    store = engine.store(read_only=True)
    with pytest.raises(RemoteStoreError, match="read-only"):
        store.replace_export("https://w3id.org/carbonkg/id/verra/export/x.csv", "ab" * 32, b"")
    with pytest.raises(RemoteStoreError, match="read-only"):
        store.put_static_graph("ontology", [])
    assert all(r.url.path == "/query" for r in engine.requests)


# -- broken and silent connections (real sockets on 127.0.0.1) ----------------------------------


def _read_request(conn: socket.socket) -> None:
    """Read one whole HTTP request (headers, then Content-Length bytes of body)."""
    data = b""
    while b"\r\n\r\n" not in data:
        chunk = conn.recv(65536)
        if not chunk:
            return
        data += chunk
    head, _, body = data.partition(b"\r\n\r\n")
    length = re.search(rb"(?im)^content-length:\s*(\d+)", head)
    remaining = int(length.group(1)) - len(body) if length else 0
    while remaining > 0:
        chunk = conn.recv(min(remaining, 65536))
        if not chunk:
            return
        remaining -= len(chunk)


@pytest.fixture
def raw_server() -> Iterator[Callable[[bytes | None], str]]:
    """``raw_server(reply)``: a one-connection-at-a-time TCP server on 127.0.0.1 that reads a
    request and sends ``reply`` as is, then closes (``None``: never answers, holds the line)."""
    sockets: list[socket.socket] = []
    stop = threading.Event()

    def serve(listener: socket.socket, reply: bytes | None) -> None:
        listener.settimeout(0.2)
        while not stop.is_set():
            try:
                conn, _ = listener.accept()
            except OSError:
                continue
            with conn:
                conn.settimeout(5)
                try:
                    _read_request(conn)
                    if reply is None:
                        stop.wait(10)
                    else:
                        conn.sendall(reply)
                        # Half-close and drain: closing with unread bytes would make the
                        # kernel send RST, and the client would see a reset, not a short body.
                        conn.shutdown(socket.SHUT_WR)
                        while conn.recv(65536):
                            pass
                except OSError:
                    pass

    def start(reply: bytes | None) -> str:
        listener = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        listener.bind(("127.0.0.1", 0))
        listener.listen(4)
        sockets.append(listener)
        threading.Thread(target=serve, args=(listener, reply), daemon=True).start()
        return f"http://127.0.0.1:{listener.getsockname()[1]}"

    yield start
    stop.set()
    for listener in sockets:
        listener.close()


def _store_at(base: str, **options) -> RemoteStore:
    return RemoteStore(base + "/query", base + "/update", base + "/store", **options)


def test_silent_engine_times_out(raw_server) -> None:
    store = _store_at(raw_server(None), timeout=0.5)
    started = time.monotonic()
    with pytest.raises(RemoteStoreError, match=r"no complete answer .* within 0.5 s"):
        store.query("SELECT * {}", default_graph=G, named_graphs=G)
    assert time.monotonic() - started < 5


def test_body_shorter_than_its_length_raises(raw_server) -> None:
    reply = (b"HTTP/1.1 200 OK\r\nContent-Type: application/sparql-results+json\r\nContent-Length: %d\r\n\r\n" % (len(SELECT_BODY) + 50)) + SELECT_BODY
    with pytest.raises(RemoteStoreError, match="RemoteProtocolError"):
        _store_at(raw_server(reply), timeout=5).query("SELECT * {}", default_graph=G, named_graphs=G)


def test_chunked_body_without_its_last_chunk_raises(raw_server) -> None:
    reply = (b"HTTP/1.1 200 OK\r\nContent-Type: application/sparql-results+json\r\nTransfer-Encoding: chunked\r\n\r\n"
             + b"%x\r\n" % len(SELECT_BODY) + SELECT_BODY + b"\r\n")  # no terminating 0-chunk, then closed
    with pytest.raises(RemoteStoreError, match="RemoteProtocolError"):
        _store_at(raw_server(reply), timeout=5).query("SELECT * {}", default_graph=G, named_graphs=G)


def test_refused_connection_raises() -> None:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    with pytest.raises(RemoteStoreError, match="ConnectError"):
        _store_at(f"http://127.0.0.1:{port}", timeout=5).query("SELECT * {}", default_graph=G, named_graphs=G)


# -- opening a store ---------------------------------------------------------------------------------


def test_open_store(tmp_path: Path) -> None:
    local = open_store(tmp_path / "store")
    assert isinstance(local, EmbeddedStore) and isinstance(local, GraphStore)
    assert isinstance(open_store(None), EmbeddedStore)
    ox_store = open_store("oxigraph+http://127.0.0.1:7878/")
    assert (ox_store.query_url, ox_store.update_url, ox_store.graph_store_url) == (
        "http://127.0.0.1:7878/query", "http://127.0.0.1:7878/update", "http://127.0.0.1:7878/store")
    assert isinstance(ox_store, GraphStore)
    virtuoso = open_store("virtuoso+http://dba:p%40ss@127.0.0.1:8890", read_only=True)
    assert (virtuoso.query_url, virtuoso.update_url, virtuoso.graph_store_url) == (
        "http://127.0.0.1:8890/sparql-auth", "http://127.0.0.1:8890/sparql-auth", "http://127.0.0.1:8890/sparql-graph-crud-auth")
    assert isinstance(virtuoso._client.auth, httpx.DigestAuth) and virtuoso.read_only
    anonymous = open_store("virtuoso+http://127.0.0.1:8890")
    assert anonymous.graph_store_url == "http://127.0.0.1:8890/sparql-graph-crud" and anonymous._client.auth is None
    plain = open_store("https://user:pw@engine.example/ds/query", update_url="https://engine.example/ds/update",
                       graph_store_url="https://engine.example/ds/data")
    assert plain.query_url == "https://engine.example/ds/query"  # the credentials do not stay in the URL
    assert isinstance(plain._client.auth, httpx.BasicAuth)
    with pytest.raises(ValueError, match="graph_store_url"):
        open_store("http://engine.example/sparql")
    with pytest.raises(ValueError, match="unknown engine layout"):
        open_store("fuseki+http://engine.example/ds")
    with pytest.raises(TypeError):
        open_store(tmp_path / "other", timeout=3)
