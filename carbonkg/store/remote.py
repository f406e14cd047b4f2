"""A store on any SPARQL 1.1 engine, reached only through the standard protocols.

SPARQL 1.1 Query and Update over HTTP (URL-encoded POST) and the Graph Store HTTP Protocol
(``?graph=<IRI>``) are all it uses, so the loaders and the service run unchanged on Oxigraph
server, Virtuoso, Fuseki, GraphDB or Neptune. It keeps the embedded store's guarantees:

- every load goes to a fresh *version graph*, uploaded with GSP (``PUT`` of the first slice,
  ``POST`` of the next ones: memory and engine transactions stay bounded whatever the file size);
  nothing points at it while it grows, so no query sees it;
- one SPARQL Update (one transaction on the engine) moves ``<export> ck:currentGraph`` in the
  catalog graph to it, then the old version graph is dropped;
- every query runs over the live graphs only, named with the protocol's ``default-graph-uri`` and
  ``named-graph-uri`` parameters;
- an answer the engine cut short (a row cap, a timeout, a broken stream) raises
  :class:`RemoteStoreError`, never comes back as a silent partial answer.

Each version graph is recorded in the catalog (``store:versionOf``) before its upload starts, so a
load killed half-way leaves a graph that :meth:`RemoteStore.collect_garbage` can find and drop
without listing the engine's graphs: on a shared engine, only graphs this store created are ever
dropped.
"""

from __future__ import annotations

import logging
import re
import threading
import time
import uuid
from collections.abc import Iterable, Iterator, Mapping, Sequence
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import IO, Any
from urllib.parse import unquote, urlsplit, urlunsplit

import httpx
import pyoxigraph as ox

from carbonkg import __version__
from carbonkg.errors import CarbonkgError
from carbonkg.iris import BASE
from carbonkg.store.catalog import (
    MERGED_GRAPH,
    Catalog,
    StaticGraph,
    join_updates,
    merged_delta,
    merged_resync,
    merged_sources,
)
from carbonkg.store.embedded import CATALOG_GRAPH, STATIC_GRAPH_BASE, ExportState

log = logging.getLogger(__name__)

CK = "https://w3id.org/carbonkg/ontology#"
_CURRENT = CK + "currentGraph"
_SHA = CK + "sha256"
_STORE = BASE + "store#"  # internal bookkeeping in the catalog graph, not ontology terms
_STATIC = _STORE + "staticGraph"  # the same registration as the embedded store's
_STATIC_SHA = _STORE + "sourceSha256"
_VERSION_OF = _STORE + "versionOf"
_CREATED = _STORE + "createdAt"
_COMPLETE = _STORE + "complete"  # <merged graph> _COMPLETE true: the merged graph is maintained
_XSD_DATETIME = "http://www.w3.org/2001/XMLSchema#dateTime"
#: a graph nothing is ever written to: the dataset of a query when no graph is live
EMPTY_GRAPH = BASE + "graph/empty"
_CATALOG = CATALOG_GRAPH.value

NTRIPLES = "application/n-triples"
RESULTS_ACCEPT = "application/sparql-results+json, application/sparql-results+xml;q=0.9"
GRAPH_ACCEPT = "application/n-triples, text/turtle;q=0.8"
#: upload slice size: see docs in RemoteStore.__init__
DEFAULT_SLICE_BYTES = 16 << 20
#: how often a query is asked again when a load replaced a graph it was asked over
_QUERY_ATTEMPTS = 3
#: the largest answer read into memory (an engine may stream an answer without end)
DEFAULT_MAX_ANSWER_BYTES = 1 << 30


class RemoteStoreError(CarbonkgError):
    """The engine refused, failed, timed out or sent an incomplete answer."""

    def __init__(self, message: str, *, status: int | None = None, url: str | None = None, timed_out: bool = False) -> None:
        super().__init__(message)
        self.status = status
        self.url = url
        self.timed_out = timed_out  # no complete answer within the time limit


class RemoteTriples:
    """The answer to a CONSTRUCT or DESCRIBE query, complete and parsed.

    Iterates :class:`pyoxigraph.Triple` and serialises like pyoxigraph's ``QueryTriples``."""

    __slots__ = ("_triples",)

    def __init__(self, triples: Sequence[ox.Triple]) -> None:
        self._triples = list(triples)

    def __iter__(self) -> Iterator[ox.Triple]:
        return iter(self._triples)

    def __len__(self) -> int:
        return len(self._triples)

    def __repr__(self) -> str:
        return f"<RemoteTriples {len(self._triples)} triples>"

    def serialize(self, output: IO[bytes] | str | Path | None = None, format: ox.RdfFormat | None = None) -> bytes | None:
        return ox.serialize(self._triples, output, format)


# -- what kind of query ---------------------------------------------------------------------

_PROLOGUE = re.compile(
    r"""\s+|\#[^\n]*|(?i:BASE)\s*<[^>]*>|(?i:PREFIX)\s*[^\s:]*:\s*<[^>]*>""",
)
_FORM = re.compile(r"(?i:(SELECT|ASK|CONSTRUCT|DESCRIBE))\b")


def query_form(sparql: str) -> str:
    """``SELECT``, ``ASK``, ``CONSTRUCT`` or ``DESCRIBE``: the first keyword after the prologue."""
    pos = 0
    while True:
        m = _PROLOGUE.match(sparql, pos)
        if m is None or m.end() == pos:
            break
        pos = m.end()
    m = _FORM.match(sparql, pos)
    if m is None:
        raise SyntaxError(f"not a SPARQL query (expected SELECT, ASK, CONSTRUCT or DESCRIBE): {sparql[pos:pos + 60]!r}")
    return m.group(1).upper()


def _iri(value: str) -> str:
    if any(c in value for c in '<>"{}|^`\\ \n'):
        raise ValueError(f"not an IRI: {value!r}")
    return f"<{value}>"


def _graph_names(graphs: Any) -> list[str]:
    """IRIs from NamedNodes or strings; pyoxigraph's DefaultGraph (no remote name) → EMPTY_GRAPH."""
    if graphs is None:
        return []
    if isinstance(graphs, (str, ox.NamedNode, ox.DefaultGraph)):
        graphs = [graphs]
    names = []
    for g in graphs:
        if isinstance(g, ox.DefaultGraph):
            names.append(EMPTY_GRAPH)
        elif isinstance(g, ox.NamedNode):
            names.append(g.value)
        elif isinstance(g, str):
            names.append(g)
        else:
            raise TypeError(f"a graph is a NamedNode or an IRI string, not {g!r}")
    return names


def _excerpt(data: bytes, limit: int = 300) -> str:
    text = data.decode("utf-8", "replace")
    text = re.sub(r"<[^>]+>", " ", text) if "<html" in text[:200].lower() or "<!doctype" in text[:200].lower() else text
    text = " ".join(text.split())
    return text if len(text) <= limit else text[:limit] + "…"


def _slices(ntriples: Path | bytes, slice_bytes: int) -> Iterator[bytes]:
    """The N-Triples document cut into pieces of at most ``slice_bytes`` at line ends (a line
    longer than that is a piece of its own). Each piece is a valid N-Triples document."""
    if isinstance(ntriples, (bytes, bytearray, memoryview)):
        data = bytes(ntriples)
        start = 0
        while start < len(data):
            end = _cut(data, start, slice_bytes, eof=True)
            yield data[start:end]
            start = end
        return
    with Path(ntriples).open("rb") as handle:
        buf = bytearray()
        while True:
            block = handle.read(min(max(slice_bytes - len(buf), 1 << 16), 1 << 24))
            eof = not block
            buf += block
            while buf:
                end = _cut(buf, 0, slice_bytes, eof=eof)
                if end is None:
                    break
                yield bytes(buf[:end])
                del buf[:end]
            if eof:
                return


def _cut(data: bytes | bytearray, start: int, slice_bytes: int, *, eof: bool) -> int | None:
    """Where the piece that starts at ``start`` ends: after the last line end within
    ``slice_bytes``, or after the first line end past it (one long line); ``None`` when more
    data is needed to tell."""
    if len(data) - start <= slice_bytes:
        return len(data) if eof else None
    cut = data.rfind(b"\n", start, start + slice_bytes)
    if cut >= start:
        return cut + 1
    cut = data.find(b"\n", start + slice_bytes)
    if cut >= 0:
        return cut + 1
    return len(data) if eof else None


def _mentions_blank_nodes(ntriples: Path | bytes) -> bool:
    """Whether ``_:`` occurs anywhere (a literal containing it only costs slicing)."""
    if isinstance(ntriples, (bytes, bytearray, memoryview)):
        return b"_:" in bytes(ntriples)
    with Path(ntriples).open("rb") as handle:
        last = b""
        while block := handle.read(1 << 22):
            if b"_:" in last + block[:1] or b"_:" in block:
                return True
            last = block[-1:]
    return False


# -- the store ------------------------------------------------------------------------------


class RemoteStore:
    """A :class:`~carbonkg.store.GraphStore` on a SPARQL 1.1 engine over HTTP.

    ``query_url``, ``update_url`` and ``graph_store_url`` are the engine's SPARQL query, SPARQL
    update and Graph Store Protocol endpoints (the presets :meth:`oxigraph` and :meth:`virtuoso`
    know two layouts). ``auth`` is anything httpx takes: ``(user, password)`` for basic
    authentication, :class:`httpx.DigestAuth` (Virtuoso), ...

    ``timeout`` (seconds) bounds each request from start to its answer's last byte; an answer
    that is not complete in time is an error (some engines keep streaming past their own query
    timeout). ``max_answer_bytes`` bounds the size of one answer (``None``: no bound).

    ``slice_bytes`` caps one upload request: a file is sent in line-aligned slices (the first
    with ``PUT``, the next ones appended with ``POST``), which bounds memory here and the size
    of each transaction on the engine. A file with blank nodes goes in one piece (their labels
    are scoped to one request). ``upload_params`` are added to every upload (engine-specific
    switches).

    ``live_graphs_ttl`` is how long (seconds) the list of live graphs is reused before it is
    read again before a query (writes through this object refresh it at once).
    ``verify_live_graphs`` reads them again after each answer, and asks again if a graph the
    answer came from stopped being live meanwhile (a load by another process replaced it, and
    may be dropping it): one more small request per query for answers of one state of the store.
    A ``read_only`` store refuses every write.
    """

    def __init__(
        self,
        query_url: str,
        update_url: str,
        graph_store_url: str,
        *,
        auth: Any = None,
        timeout: float = 60.0,
        slice_bytes: int = DEFAULT_SLICE_BYTES,
        live_graphs_ttl: float = 1.0,
        max_answer_bytes: int | None = DEFAULT_MAX_ANSWER_BYTES,
        verify_live_graphs: bool = True,
        upload_params: Mapping[str, str] | None = None,
        headers: Mapping[str, str] | None = None,
        transport: httpx.BaseTransport | None = None,
        read_only: bool = False,
    ) -> None:
        self.query_url = query_url
        self.update_url = update_url
        self.graph_store_url = graph_store_url
        self.timeout = timeout
        self.slice_bytes = int(slice_bytes)
        if self.slice_bytes < 1:
            raise ValueError("slice_bytes must be positive")
        self.live_graphs_ttl = live_graphs_ttl
        self.max_answer_bytes = max_answer_bytes
        self.verify_live_graphs = verify_live_graphs
        self.upload_params = dict(upload_params or {})
        self.read_only = read_only
        self.path = None  # no local folder: for code that prints where the store is
        self._client = httpx.Client(
            auth=auth,
            timeout=httpx.Timeout(timeout),
            headers={"User-Agent": f"carbonkg/{__version__}", **dict(headers or {})},
            transport=transport,
            follow_redirects=False,
        )
        self._write_lock = threading.Lock()
        self._live: list[ox.NamedNode] | None = None
        self._merged = False  # the merged graph is complete: the default graph of queries
        self._live_read_at = 0.0

    # -- presets ------------------------------------------------------------------------------

    @classmethod
    def oxigraph(cls, base_url: str, **options: Any) -> RemoteStore:
        """Oxigraph server (``oxigraph serve``): ``/query``, ``/update``, ``/store``."""
        base = base_url.rstrip("/")
        return cls(f"{base}/query", f"{base}/update", f"{base}/store", **options)

    @classmethod
    def virtuoso(cls, base_url: str, *, user: str | None = None, password: str | None = None, **options: Any) -> RemoteStore:
        """Virtuoso: with a user, the digest-authenticated ``/sparql-auth`` and
        ``/sparql-graph-crud-auth``; without, ``/sparql`` and ``/sparql-graph-crud``, which
        need the ``SPARQL_UPDATE`` role granted to the ``SPARQL`` user for writes."""
        base = base_url.rstrip("/")
        if user is not None:
            options.setdefault("auth", httpx.DigestAuth(user, password or ""))
            return cls(f"{base}/sparql-auth", f"{base}/sparql-auth", f"{base}/sparql-graph-crud-auth", **options)
        return cls(f"{base}/sparql", f"{base}/sparql", f"{base}/sparql-graph-crud", **options)

    @classmethod
    def from_url(cls, url: str, **options: Any) -> RemoteStore:
        """A store from one URL.

        ``oxigraph+http://host:port`` and ``virtuoso+http://[user:password@]host:port`` name a
        layout; a plain ``http(s)://`` URL is the query endpoint, with ``update_url`` and
        ``graph_store_url`` in ``options`` (the update endpoint defaults to the query one).
        Credentials in a plain URL are sent with basic authentication.
        """
        parts = urlsplit(url)
        scheme = parts.scheme.lower()
        flavour, _, transport_scheme = scheme.rpartition("+")
        if transport_scheme not in ("http", "https"):
            raise ValueError(f"not an http(s) URL: {url!r}")
        user = unquote(parts.username) if parts.username is not None else None
        password = unquote(parts.password) if parts.password is not None else None
        netloc = parts.hostname or ""
        if ":" in netloc:  # IPv6 literal
            netloc = f"[{netloc}]"
        if parts.port is not None:
            netloc += f":{parts.port}"
        bare = urlunsplit((transport_scheme, netloc, parts.path, parts.query, ""))
        if flavour == "oxigraph":
            if user is not None:
                options.setdefault("auth", (user, password or ""))
            return cls.oxigraph(bare, **options)
        if flavour == "virtuoso":
            return cls.virtuoso(bare, user=user, password=password, **options)
        if flavour:
            raise ValueError(f"unknown engine layout {flavour!r} in {url!r} (known: oxigraph, virtuoso)")
        update_url = options.pop("update_url", None) or bare
        graph_store_url = options.pop("graph_store_url", None)
        if graph_store_url is None:
            raise ValueError(f"{url!r}: give graph_store_url (the Graph Store Protocol endpoint) too")
        if user is not None:
            options.setdefault("auth", (user, password or ""))
        return cls(bare, update_url, graph_store_url, **options)

    def close(self) -> None:
        self._client.close()

    def __enter__(self) -> RemoteStore:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def __repr__(self) -> str:
        return f"RemoteStore({self.query_url!r})"

    # -- reading ------------------------------------------------------------------------------

    def live_graphs(self) -> list[ox.NamedNode]:
        """The graphs queries see: every export's current graph and every static graph."""
        if self._live is None or time.monotonic() - self._live_read_at > self.live_graphs_ttl:
            self._read_live_graphs()
        assert self._live is not None
        return self._live

    def _read_live_graphs(self) -> list[ox.NamedNode]:
        read_at = time.monotonic()
        rows = self._select(
            f"SELECT DISTINCT ?g ?m WHERE {{ {{ ?e <{_CURRENT}> ?g }} UNION {{ ?g <{_STATIC}> ?n }} "
            f"UNION {{ <{MERGED_GRAPH}> <{_COMPLETE}> ?m }} }}",
            default=[_CATALOG],
        )
        self._live = sorted({r["g"] for r in rows if isinstance(r["g"], ox.NamedNode)}, key=lambda n: n.value)
        self._merged = any(r["m"] is not None for r in rows)
        self._live_read_at = read_at
        return self._live

    def _default_graphs(self, live: list[ox.NamedNode]) -> list[str]:
        """The default graph of queries: the merged graph when complete (each triple of the live
        graphs once, as SPARQL's RDF merge has it), else the live graphs."""
        return [MERGED_GRAPH] if self._merged else [g.value for g in live]

    def query(self, sparql: str, **options: Any) -> Any:
        """Run a SPARQL query over the live graphs (their union is the default graph).

        Returns what the embedded store returns: :class:`pyoxigraph.QuerySolutions` for SELECT,
        :class:`pyoxigraph.QueryBoolean` for ASK, and for CONSTRUCT/DESCRIBE a
        :class:`RemoteTriples` (iterable of :class:`pyoxigraph.Triple`, with ``serialize``).

        The answer is of one state of the store even while another process loads: after the
        answer has arrived, the graphs it was asked over are checked to be still live (an old
        version is dropped only after the catalog stops pointing at it), else it is asked again.

        Options: ``default_graph`` and ``named_graphs`` (as in pyoxigraph) replace the live
        graphs; ``base_iri`` (as in pyoxigraph); ``timeout`` (seconds) for this request; ``params``, extra protocol parameters
        for the engine (e.g. Virtuoso's ``timeout`` in milliseconds).
        """
        default = options.pop("default_graph", None)
        named = options.pop("named_graphs", None)
        timeout = options.pop("timeout", None)
        base_iri = options.pop("base_iri", None)
        if base_iri is not None:  # on the first line, so that the engine's line numbers stay the client's
            sparql = f"BASE {_iri(base_iri)} {sparql}"
        params = options.pop("params", None) or {}
        if options:
            raise TypeError(f"RemoteStore.query does not support {', '.join(sorted(options))}")
        form = query_form(sparql)
        if default is not None and named is not None:
            return self._query(sparql, form, _graph_names(default), _graph_names(named), timeout=timeout, params=params)
        live = self.live_graphs()
        for _attempt in range(_QUERY_ATTEMPTS):
            names = [g.value for g in live]
            result = self._query(
                sparql, form,
                self._default_graphs(live) if default is None else _graph_names(default),
                names if named is None else _graph_names(named),
                timeout=timeout, params=params,
            )
            if not self.verify_live_graphs:
                return result
            fresh = self._read_live_graphs()
            if set(live) <= set(fresh):
                return result
            log.info("the store's graphs changed during a query: asking again")
            live = fresh
        raise RemoteStoreError(f"{self.query_url}: the store's graphs kept changing during the query "
                               f"({_QUERY_ATTEMPTS} attempts)", url=self.query_url)

    def catalog(self) -> Catalog:
        """The catalog as of now: current export versions and static graphs (one request). The
        engine's union is never used (it may hold other graphs), so ``union_exact`` is false."""
        rows = self._select(
            f"""SELECT ?e ?g ?s ?n ?m WHERE {{
              {{ ?e <{_CURRENT}> ?g OPTIONAL {{ ?e <{_SHA}> ?s }} }}
              UNION {{ ?g <{_STATIC}> ?n OPTIONAL {{ ?g <{_STATIC_SHA}> ?s }} }}
              UNION {{ <{MERGED_GRAPH}> <{_COMPLETE}> ?m }} }}""",
            default=[_CATALOG],
        )
        exports, static, merged = [], [], False
        for row in rows:
            sha = row["s"].value if row["s"] is not None else ""
            if row["m"] is not None:
                merged = True
            elif row["e"] is not None:
                exports.append(ExportState(row["e"].value, row["g"].value, sha))
            elif row["g"] is not None:
                static.append(StaticGraph(row["g"].value, row["n"].value, sha))
        # an engine has no default graph of carbonkg's own: nothing to add to the merged graph
        catalog = Catalog.build(exports, static, merged=merged, store_default_empty=True)
        self._live = [ox.NamedNode(g) for g in catalog.live]
        self._merged = merged
        return catalog

    def export_state(self, export_iri: str) -> ExportState | None:
        e = _iri(export_iri)
        rows = self._select(
            f"SELECT ?g ?s WHERE {{ {e} <{_CURRENT}> ?g OPTIONAL {{ {e} <{_SHA}> ?s }} }}", default=[_CATALOG]
        )
        if not rows:
            return None
        row = rows[0]
        sha = row["s"]
        return ExportState(export_iri, row["g"].value, sha.value if sha is not None else "")

    def exports(self) -> Iterator[ExportState]:
        rows = self._select(
            f"SELECT ?e ?g ?s WHERE {{ ?e <{_CURRENT}> ?g OPTIONAL {{ ?e <{_SHA}> ?s }} }} ORDER BY ?e",
            default=[_CATALOG],
        )
        for row in rows:
            yield ExportState(row["e"].value, row["g"].value, row["s"].value if row["s"] is not None else "")

    def __len__(self) -> int:
        """Number of quads in the live graphs."""
        live = [g.value for g in self.live_graphs()]
        if not live:
            return 0
        rows = self._select("SELECT (COUNT(*) AS ?n) WHERE { GRAPH ?g { ?s ?p ?o } }", default=[EMPTY_GRAPH], named=live)
        return int(rows[0]["n"].value)

    # -- writing ------------------------------------------------------------------------------

    def replace_export(self, export_iri: str, sha256: str, ntriples: Path | bytes) -> str:
        """Upload an export's triples (N-Triples) as its new current version; return the graph IRI.

        The previous version stays visible until the one-update switch in the catalog."""
        graph_iri = f"{export_iri}/graph/{sha256[:12]}-{uuid.uuid4().hex[:8]}"
        _iri(graph_iri)
        with self._write_lock:
            self._ensure_merged()
            previous = self.export_state(export_iri)
            self._record_version(graph_iri, export_iri)
            try:
                self._upload(graph_iri, ntriples)
            except Exception:
                self._discard_quietly(graph_iri)
                raise
            self._switch(export_iri, sha256, graph_iri, previous)
            self._live = None
            if previous is not None and previous.graph_iri != graph_iri:
                self._discard_version(previous.graph_iri)
        return graph_iri

    def put_static_graph(self, name: str, triples_turtle: Iterable[Path], sha256: str = "") -> str:
        """(Re)load a static graph (ontology, vocabularies, shapes) from Turtle files; ``sha256``
        (a digest of its sources) is recorded in the catalog.

        The files are parsed here (a bad file never reaches the engine) and sent with one GSP
        ``PUT``, which replaces the graph's content in one request."""
        graph = STATIC_GRAPH_BASE + name
        _iri(graph)
        triples: list[ox.Triple] = []
        for path in triples_turtle:
            triples.extend(ox.parse(path=str(path), format=ox.RdfFormat.TURTLE))
        body = ox.serialize(triples, format=ox.RdfFormat.N_TRIPLES) or b""
        with self._write_lock:
            self._ensure_merged()
            self._gsp("PUT", graph, body)
            catalog = self.catalog()
            self._update(join_updates(
                f"""DELETE WHERE {{ GRAPH <{_CATALOG}> {{ <{graph}> <{_STATIC_SHA}> ?s }} }} ;
                INSERT DATA {{ GRAPH <{_CATALOG}> {{ <{graph}> <{_STATIC}> {ox.Literal(name)} ;
                  <{_STATIC_SHA}> {ox.Literal(sha256)} }} }}""",
                # the graph was replaced in place: the merged graph is checked against all sources
                merged_resync([*merged_sources(catalog, graph), graph], graph)))
            self._live = None
        return graph

    def remove_export(self, export_iri: str) -> bool:
        with self._write_lock:
            self._ensure_merged()
            previous = self.export_state(export_iri)
            if previous is None:
                return False
            others = merged_sources(self.catalog(), previous.graph_iri)
            self._update(join_updates(f"DELETE WHERE {{ GRAPH <{_CATALOG}> {{ {_iri(export_iri)} ?p ?o }} }}",
                                      merged_delta(previous.graph_iri, None, others)))
            self._live = None
            self._discard_version(previous.graph_iri)
            return True

    def collect_garbage(self, *, min_age: float = 0.0) -> int:
        """Drop version graphs that no catalog entry points at (left by interrupted loads).

        Only graphs this store recorded are considered. ``min_age`` (seconds) spares versions
        younger than that: uploads another process may still be running."""
        rows = self._select(
            f"""SELECT ?g ?t WHERE {{ ?g <{_VERSION_OF}> ?e OPTIONAL {{ ?g <{_CREATED}> ?t }}
                FILTER NOT EXISTS {{ ?x <{_CURRENT}> ?g }} }}""",
            default=[_CATALOG],
        )
        cutoff = datetime.now(timezone.utc) - timedelta(seconds=min_age)
        dropped = 0
        with self._write_lock:
            for row in rows:
                if min_age > 0 and row["t"] is not None:
                    try:
                        created = datetime.fromisoformat(row["t"].value.replace("Z", "+00:00"))
                    except ValueError:
                        created = None
                    if created is not None and created.tzinfo is not None and created > cutoff:
                        continue
                log.info("dropping graph %s left by an interrupted load", row["g"].value)
                self._discard_version(row["g"].value)
                dropped += 1
        return dropped

    def clear(self) -> None:
        """Drop every graph this store's catalog knows (versions, static graphs) and the catalog."""
        rows = self._select(
            f"SELECT DISTINCT ?g WHERE {{ {{ ?g <{_VERSION_OF}> ?e }} UNION {{ ?e <{_CURRENT}> ?g }} UNION {{ ?g <{_STATIC}> ?n }} }}",
            default=[_CATALOG],
        )
        with self._write_lock:
            for row in rows:
                self._update(f"DROP SILENT GRAPH {_iri(row['g'].value)}")
            self._update(f"DROP SILENT GRAPH <{MERGED_GRAPH}>")
            self._update(f"DROP SILENT GRAPH <{_CATALOG}>")
            self._live = None
            self._merged = False

    def flush(self) -> None:
        """Nothing to do: every write is committed by the engine when its request returns."""

    # -- internals: writes ----------------------------------------------------------------------

    def _writable(self) -> None:
        if self.read_only:
            raise RemoteStoreError(f"{self.update_url}: this store was opened read-only")

    def _record_version(self, graph_iri: str, export_iri: str) -> None:
        now = datetime.now(timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")
        self._update(
            f"""INSERT DATA {{ GRAPH <{_CATALOG}> {{ <{graph_iri}> <{_VERSION_OF}> {_iri(export_iri)} ;
                <{_CREATED}> "{now}"^^<{_XSD_DATETIME}> }} }}"""
        )

    def _upload(self, graph_iri: str, ntriples: Path | bytes) -> None:
        if _mentions_blank_nodes(ntriples):
            # a blank node label is scoped to one request: such a document goes in one piece
            self._gsp("PUT", graph_iri, ntriples if isinstance(ntriples, bytes) else Path(ntriples).read_bytes())
            return
        method = "PUT"
        for piece in _slices(ntriples, self.slice_bytes):
            self._gsp(method, graph_iri, piece)
            method = "POST"
        if method == "PUT":  # an empty file: still create the graph
            self._gsp("PUT", graph_iri, b"")

    def _ensure_merged(self) -> None:
        """Build the merged graph if the engine has none yet: emptied, filled one live graph per
        request, and marked complete last (an interrupted build is done again)."""
        self._writable()
        self._read_live_graphs()
        if self._merged:
            return
        sources = merged_sources(self.catalog())
        log.info("%s: building the merged graph from %d live graphs", self.update_url, len(sources))
        self._update(f"DROP SILENT GRAPH <{MERGED_GRAPH}>")
        for graph in sources:
            self._update(merged_delta(None, graph, ()))
        self._update(f"INSERT DATA {{ GRAPH <{_CATALOG}> {{ <{MERGED_GRAPH}> <{_COMPLETE}> true }} }}")
        self._merged = True

    def _switch(self, export_iri: str, sha256: str, graph_iri: str, previous: ExportState | None) -> None:
        e = _iri(export_iri)
        sha = ox.Literal(sha256)
        removed = previous.graph_iri if previous is not None and previous.graph_iri != graph_iri else None
        others = merged_sources(self.catalog(), removed, graph_iri)
        # one SPARQL update, one transaction on the engine: the pointer moves atomically, and the
        # merged graph with it.
        # (Virtuoso 7.2 finds no solution for two OPTIONALs that match nothing, and the update
        # then silently does nothing: one OPTIONAL, and the result is checked.)
        self._update(join_updates(
            f"""DELETE {{ GRAPH <{_CATALOG}> {{ {e} <{_CURRENT}> ?g ; <{_SHA}> ?s }} }}
            INSERT {{ GRAPH <{_CATALOG}> {{ {e} <{_CURRENT}> <{graph_iri}> ; <{_SHA}> {sha} }} }}
            WHERE {{ OPTIONAL {{ GRAPH <{_CATALOG}> {{ {e} <{_CURRENT}> ?g ; <{_SHA}> ?s }} }} }}""",
            merged_delta(removed, graph_iri, others)))
        pointers = self._select(f"SELECT ?g ?s WHERE {{ {e} <{_CURRENT}> ?g OPTIONAL {{ {e} <{_SHA}> ?s }} }}",
                                default=[_CATALOG])
        found = sorted({(r["g"].value, r["s"].value if r["s"] is not None else "") for r in pointers})
        if found != [(graph_iri, sha256)]:
            raise RemoteStoreError(
                f"{self.update_url}: the catalog update did not move <{export_iri}> to <{graph_iri}> "
                f"(it points at {found or 'nothing'}); the engine ignored or misread the update", url=self.update_url)

    def _discard_version(self, graph_iri: str) -> None:
        """Drop a version graph, then its catalog record (a crash in between leaves a record
        that the next collect_garbage drops again, silently)."""
        g = _iri(graph_iri)
        self._update(f"DROP SILENT GRAPH {g}")
        self._update(f"DELETE WHERE {{ GRAPH <{_CATALOG}> {{ {g} ?p ?o }} }}")

    def _discard_quietly(self, graph_iri: str) -> None:
        try:
            self._discard_version(graph_iri)
        except Exception as exc:  # the upload's own error is the one to report
            log.warning("could not drop the partial upload %s (collect_garbage will): %s", graph_iri, exc)

    # -- internals: HTTP ------------------------------------------------------------------------

    def _send(self, method: str, url: str, what: str, *, timeout: float | None = None, **kwargs: Any) -> tuple[httpx.Response, bytes]:
        """One request, its whole answer read within ``timeout`` seconds (connecting, sending and
        reading all count: an engine that keeps streaming does not keep us waiting) and within
        ``max_answer_bytes``."""
        budget = self.timeout if timeout is None else timeout
        deadline = time.monotonic() + budget
        limit = self.max_answer_bytes
        try:
            with self._client.stream(method, url, timeout=httpx.Timeout(budget), **kwargs) as response:
                chunks: list[bytes] = []
                size = 0
                for chunk in response.iter_bytes():
                    size += len(chunk)
                    if limit is not None and size > limit:
                        raise RemoteStoreError(
                            f"{what}: the answer from {url} is larger than {limit:,} bytes (max_answer_bytes): "
                            "stopped reading; page the query or raise the limit", status=response.status_code, url=url)
                    if time.monotonic() > deadline:
                        raise RemoteStoreError(
                            f"{what}: no complete answer from {url} within {budget:g} s "
                            f"({size:,} bytes received): stopped reading", status=response.status_code, url=url,
                            timed_out=True)
                    chunks.append(chunk)
                body = b"".join(chunks)
        except httpx.TimeoutException as exc:
            raise RemoteStoreError(
                f"{what}: no complete answer from {url} within {budget:g} s ({type(exc).__name__})", url=url,
                timed_out=True,
            ) from exc
        except httpx.HTTPError as exc:  # refused, reset, or a body cut short (Content-Length, chunking)
            raise RemoteStoreError(f"{what}: {url}: {type(exc).__name__}: {exc}", url=url) from exc
        if response.status_code >= 300:
            raise RemoteStoreError(
                f"{what}: {url} answered {response.status_code} {response.reason_phrase}: {_excerpt(body)}",
                status=response.status_code, url=url,
            )
        _check_complete(response, what)
        return response, body

    def _update(self, sparql: str) -> None:
        self._writable()
        self._send("POST", self.update_url, "SPARQL update", data={"update": sparql})

    def _gsp(self, method: str, graph_iri: str, body: bytes) -> None:
        self._writable()
        self._send(
            method, self.graph_store_url, f"Graph Store {method} of <{graph_iri}>",
            params={**self.upload_params, "graph": graph_iri}, content=body,
            headers={"Content-Type": NTRIPLES},
        )

    def _select(self, sparql: str, *, default: list[str], named: list[str] | None = None) -> list[ox.QuerySolution]:
        return list(self._query(sparql, "SELECT", default, named or [EMPTY_GRAPH]))

    def _query(
        self, sparql: str, form: str, default: list[str], named: list[str], *,
        timeout: float | None = None, params: Mapping[str, Any] | None = None,
    ) -> Any:
        data: dict[str, Any] = {
            "query": sparql,
            "default-graph-uri": default or [EMPTY_GRAPH],
            "named-graph-uri": named or [EMPTY_GRAPH],
        }
        for key, value in (params or {}).items():
            if key in data:
                raise TypeError(f"protocol parameter {key!r} is set by RemoteStore.query itself")
            data[key] = value if isinstance(value, (list, tuple)) else str(value)
        graph_answer = form in ("CONSTRUCT", "DESCRIBE")
        response, body = self._send(
            "POST", self.query_url, f"SPARQL {form} query", timeout=timeout, data=data,
            headers={"Accept": GRAPH_ACCEPT if graph_answer else RESULTS_ACCEPT},
        )
        media_type = response.headers.get("Content-Type", "").split(";")[0].strip()
        if graph_answer:
            fmt = ox.RdfFormat.from_media_type(media_type) if media_type else None
            if fmt is None:
                raise RemoteStoreError(f"{form} answer of an unexpected type {media_type!r}", url=self.query_url)
            try:
                return RemoteTriples([quad.triple for quad in ox.parse(body, fmt)])
            except SyntaxError as exc:
                raise _broken(form, exc, body, self.query_url) from exc
        fmt = ox.QueryResultsFormat.from_media_type(media_type) if media_type else None
        if fmt is None:
            raise RemoteStoreError(f"{form} answer of an unexpected type {media_type!r}", url=self.query_url)
        try:
            parsed = ox.parse_query_results(body, fmt)
            if isinstance(parsed, ox.QuerySolutions):
                for _ in parsed:  # the whole answer must parse before any of it is handed out
                    pass
                parsed = ox.parse_query_results(body, fmt)
        except SyntaxError as exc:
            raise _broken(form, exc, body, self.query_url) from exc
        if (form == "ASK") != isinstance(parsed, ox.QueryBoolean):
            raise RemoteStoreError(f"{form} query answered with {type(parsed).__name__}", url=self.query_url)
        return parsed


def _broken(form: str, exc: SyntaxError, body: bytes, url: str) -> RemoteStoreError:
    tail = _excerpt(body[-200:], 200)
    return RemoteStoreError(
        f"SPARQL {form} query: the answer from {url} is incomplete or malformed ({exc}); it ends with: {tail!r}",
        url=url,
    )


def _check_complete(response: httpx.Response, what: str) -> None:
    """Signals, in headers, of an answer the engine cut short while saying 200."""
    url = str(response.request.url.copy_with(query=None))
    if response.status_code == 206:
        raise RemoteStoreError(f"{what}: {url} sent a partial answer (206 Partial Content)", status=206, url=url)
    maxrows = response.headers.get("X-SPARQL-MaxRows")
    if maxrows is not None:  # Virtuoso: the answer has as many rows as its row cap allows
        raise RemoteStoreError(
            f"{what}: {url} cut the answer at its row cap ({maxrows} rows, X-SPARQL-MaxRows): it may be "
            "truncated; raise the engine's limit (Virtuoso: [SPARQL] ResultSetMaxRows) or page the query",
            status=response.status_code, url=url,
        )
    state = response.headers.get("X-SQL-State")
    if state is not None and state.strip() not in ("", "00000"):
        message = response.headers.get("X-SQL-Message", "")
        raise RemoteStoreError(
            f"{what}: {url} returned an incomplete answer (X-SQL-State {state.strip()}: {message.strip()[:200]})",
            status=response.status_code, url=url,
        )
