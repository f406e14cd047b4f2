"""From a SPARQL Update request to the text the store runs: checked, confined, rewritten.

An update is read operation by operation from the token stream (:mod:`carbonkg.server.safety`)
to find every graph it writes. Then:

1. ``SERVICE`` and ``LOAD`` must name allow-listed IRIs (403).
2. Syntax is checked first by oxigraph itself on an empty in-memory store (positions in its
   message are the client's own), unless the update contacts a remote IRI.
3. Every graph written must be a user graph or a new one: the loaders' graphs (catalog, export
   versions, ontology, vocabularies) are protected (403), and a template writing ``GRAPH ?var``
   is refused because its targets cannot be known beforehand (403).
4. ``CLEAR``/``DROP`` ``NAMED``/``ALL`` are rewritten to the user graphs (and the store's own
   default graph for ``ALL``): "all" means all that updates may touch.
5. The protocol's ``using-graph-uri``/``using-named-graph-uri`` become ``USING``/``USING NAMED``
   clauses of each ``DELETE``/``INSERT … WHERE`` (400 if the update has its own ``USING`` or
   ``WITH``, SPARQL 1.1 Protocol §2.2.3).
6. The catalog registration of graphs created and dropped is appended to the same request, so
   the store applies content and registration in one transaction.

In an update's ``WHERE``, the default graph is the store's own default graph (not the union of
the loaded data, as in queries); name graphs with ``USING`` or ``GRAPH`` to read loaded data.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

import pyoxigraph as ox

from carbonkg.server.dataset import Catalog, register_user_graphs, unregister_user_graphs
from carbonkg.server.problems import Problem
from carbonkg.server.runtime import syntax_problem
from carbonkg.server.safety import Prologue, Token, check_remote_calls, find_remote_calls, line_column, tokenize

DEFAULT = ""  # the store's own default graph, as a write target
_NO_GRAPH = "urn:x-carbonkg:no-graph"  # CLEAR SILENT of a graph that does not exist is a no-op


class _Unchecked(Exception):
    def __init__(self, token: Token | None) -> None:
        super().__init__()
        self.token = token


@dataclass
class _Operation:
    keyword: str
    start: int
    writes: list[str] = field(default_factory=list)  # graphs written (DEFAULT for the default graph)
    drops: list[str] = field(default_factory=list)  # named graphs removed
    scope: tuple[str, bool, int, int] | None = None  # (NAMED|ALL, silent, start, end) of CLEAR/DROP
    where_offset: int | None = None  # where USING clauses go (Modify operations)
    has_using: bool = False
    has_with: bool = False
    unbounded: Token | None = None  # GRAPH ?var in a template


@dataclass(frozen=True, slots=True)
class UpdatePlan:
    text: str  # what the store runs
    created: frozenset[str]  # user graphs registered by this update
    removed: frozenset[str]  # user graphs unregistered by this update
    writes: tuple[str, ...]  # every graph written ('' = the store's default graph)


class _Parser:
    def __init__(self, tokens: list[Token], base: str | None) -> None:
        self.t = tokens
        self.i = 0
        self.prologue = Prologue(base)

    # -- token helpers ------------------------------------------------------------------------

    def _peek(self, offset: int = 0) -> Token | None:
        j = self.i + offset
        return self.t[j] if j < len(self.t) else None

    def _keyword(self, offset: int = 0) -> str:
        token = self._peek(offset)
        return token.keyword if token is not None else ""

    def _accept(self, keyword: str) -> bool:
        if self._keyword() == keyword:
            self.i += 1
            return True
        return False

    def _expect(self, keyword: str) -> Token:
        token = self._peek()
        if token is None or token.keyword != keyword:
            raise _Unchecked(token)
        self.i += 1
        return token

    def _iri(self) -> str:
        token = self._peek()
        if token is None:
            raise _Unchecked(None)
        iri = self.prologue.resolve(token)
        if iri is None:
            raise _Unchecked(token)
        self.i += 1
        return iri

    def _block(self) -> tuple[int, int]:
        """Indices of the tokens inside the braces starting here; moves past the closing brace."""
        token = self._peek()
        if token is None or token.text != "{" or token.kind != "punct":
            raise _Unchecked(token)
        depth = 0
        for j in range(self.i, len(self.t)):
            tok = self.t[j]
            if tok.kind == "punct" and tok.text == "{":
                depth += 1
            elif tok.kind == "punct" and tok.text == "}":
                depth -= 1
                if depth == 0:
                    start = self.i + 1
                    self.i = j + 1
                    return start, j
        raise _Unchecked(None)

    def _template(self, span: tuple[int, int], op: _Operation, default_target: str) -> None:
        """Graphs a quad template (or quad data) writes: GRAPH blocks and bare triples."""
        depth = 0
        j, end = span
        while j < end:
            tok = self.t[j]
            if tok.kind == "punct" and tok.text == "{":
                depth += 1
            elif tok.kind == "punct" and tok.text == "}":
                depth -= 1
            elif depth == 0 and tok.keyword == "GRAPH" and j + 1 < end:
                target = self.t[j + 1]
                if target.kind == "var":
                    op.unbounded = op.unbounded or tok
                else:
                    iri = self.prologue.resolve(target)
                    if iri is None:
                        raise _Unchecked(target)
                    op.writes.append(iri)
                j += 2
                continue
            elif depth == 0 and not (tok.kind == "punct" and tok.text == "."):
                if j + 1 < end and self.t[j + 1].kind == "punct" and self.t[j + 1].text == "{":
                    raise _Unchecked(tok)  # a term before "{" is a GRAPH name: "GRAPH:g {", "GRAPHex:g {"
                if default_target not in op.writes:
                    op.writes.append(default_target)
            j += 1

    def _graph_or_default(self) -> str:
        if self._accept("DEFAULT"):
            return DEFAULT
        self._accept("GRAPH")
        return self._iri()

    # -- operations ---------------------------------------------------------------------------

    def parse(self) -> list[_Operation]:
        ops: list[_Operation] = []
        while self.i < len(self.t):
            nxt = self.prologue.consume(self.t, self.i)
            if nxt != self.i:
                self.i = nxt
                continue
            token = self.t[self.i]
            if token.kind == "punct" and token.text == ";":
                self.i += 1
                continue
            keyword = token.keyword
            op = _Operation(keyword, token.start)
            self.i += 1
            if keyword in ("CLEAR", "DROP"):
                silent = self._accept("SILENT")
                scope = self._peek()
                if self._accept("GRAPH"):
                    iri = self._iri()
                    op.writes.append(iri)
                    if keyword == "DROP":
                        op.drops.append(iri)
                elif self._accept("DEFAULT"):
                    op.writes.append(DEFAULT)
                elif scope is not None and scope.keyword in ("NAMED", "ALL"):
                    self.i += 1
                    op.scope = (scope.keyword, silent, token.start, scope.end)
                else:
                    raise _Unchecked(scope)
            elif keyword == "CREATE":
                self._accept("SILENT")
                self._expect("GRAPH")
                op.writes.append(self._iri())
            elif keyword in ("ADD", "MOVE", "COPY"):
                self._accept("SILENT")
                source = self._graph_or_default()
                self._expect("TO")
                target = self._graph_or_default()
                op.writes.append(target)
                if keyword == "MOVE" and source != target:
                    op.writes.append(source)  # MOVE empties its source
                    if source != DEFAULT:
                        op.drops.append(source)
            elif keyword == "LOAD":
                self._accept("SILENT")
                self._iri()
                if self._accept("INTO"):
                    self._expect("GRAPH")
                    op.writes.append(self._iri())
                else:
                    op.writes.append(DEFAULT)
            elif keyword in ("INSERT", "DELETE", "WITH"):
                self._modify(op)
            else:
                raise _Unchecked(token)
            ops.append(op)
        return ops

    def _modify(self, op: _Operation) -> None:
        keyword = op.keyword
        default_target = DEFAULT
        if keyword == "WITH":
            op.has_with = True
            default_target = self._iri()
            keyword = self._keyword()
            if keyword not in ("INSERT", "DELETE"):
                raise _Unchecked(self._peek())
            self.i += 1
        if keyword in ("INSERT", "DELETE") and self._keyword() == "DATA" and not op.has_with:
            self.i += 1
            self._template(self._block(), op, DEFAULT)
            return
        if keyword == "DELETE" and self._keyword() == "WHERE" and not op.has_with:
            self.i += 1
            self._template(self._block(), op, DEFAULT)
            return
        self._template(self._block(), op, default_target)
        if keyword == "DELETE" and self._accept("INSERT"):
            self._template(self._block(), op, default_target)
        while self._keyword() == "USING":
            op.has_using = True
            self.i += 1
            self._accept("NAMED")
            self._iri()
        where = self._peek()
        self._expect("WHERE")
        assert where is not None
        op.where_offset = where.start
        self._block()


def _prevalidate(text: str, base: str) -> None:
    """oxigraph's own syntax check, on an empty in-memory store (positions are the client's)."""
    try:
        ox.Store().update(text, base_iri=base)
    except SyntaxError as exc:
        raise syntax_problem(str(exc), what="update") from None
    except Exception:  # a semantic error on an empty store (e.g. CLEAR of a missing graph): not ours to judge here
        pass


def plan_update(
    text: str,
    *,
    base: str,
    catalog: Catalog,
    using: Sequence[str] = (),
    using_named: Sequence[str] = (),
    allow_list: Sequence[str] = (),
) -> UpdatePlan:
    tokens = tokenize(text)
    remote = find_remote_calls(tokens, base, update=True)
    check_remote_calls(text, remote, allow_list)
    if not remote:
        _prevalidate(text, base)
    try:
        ops = _Parser(tokens, base).parse()
    except _Unchecked as exc:
        where = ""
        if exc.token is not None:
            line, column = line_column(text, exc.token.start)
            where = f" at line {line}, column {column} ({exc.token.text!r})"
        raise Problem(
            400,
            "Malformed update",
            f"the update could not be checked{where}: this server accepts the operations of SPARQL 1.1 Update "
            "and checks which graphs each one writes",
            slug="update-syntax",
        ) from None

    for op in ops:
        if op.unbounded is not None:
            line, column = line_column(text, op.unbounded.start)
            raise Problem(
                403,
                "Graph not allowed",
                f"GRAPH with a variable in an {op.keyword} template (line {line}, column {column}) could write "
                "to any graph; name the graphs an update writes",
                slug="protected-graph",
            )
        for graph in op.writes:
            if graph != DEFAULT and catalog.is_protected(graph):
                raise Problem(
                    403,
                    "Graph not allowed",
                    f"<{graph}> is maintained by the loaders (registry exports, ontology, vocabularies or the "
                    "catalog) and cannot be changed through SPARQL Update",
                    slug="protected-graph",
                    graph=graph,
                )
    if using or using_named:
        for op in ops:
            if op.has_using or op.has_with:
                raise Problem(
                    400,
                    "Bad request",
                    "using-graph-uri and using-named-graph-uri cannot be combined with USING or WITH in the update",
                    slug="bad-request",
                )

    # what each operation leaves registered, in order
    registered = set(catalog.user)
    edits: list[tuple[int, int, str]] = []
    clauses = "".join(f"USING <{g}> " for g in using) + "".join(f"USING NAMED <{g}> " for g in using_named)
    writes: list[str] = []
    for op in ops:
        if op.scope is not None:
            scope, silent, start, end = op.scope
            targets = sorted(registered)
            parts = [f"{op.keyword} DEFAULT"] if scope == "ALL" else []
            parts += [f"{op.keyword} SILENT GRAPH <{g}>" for g in targets]
            if not parts:
                parts = [f"{op.keyword} SILENT GRAPH <{_NO_GRAPH}>"]
            edits.append((start, end, " ;\n".join(parts)))
            writes += targets + ([DEFAULT] if scope == "ALL" else [])
            if op.keyword == "DROP":
                registered.clear()
            continue
        for graph in op.drops:
            registered.discard(graph)
        for graph in op.writes:
            if graph != DEFAULT and graph not in op.drops:
                registered.add(graph)
        writes += op.writes
        if clauses and op.where_offset is not None:
            edits.append((op.where_offset, op.where_offset, clauses))

    rewritten = text
    for start, end, replacement in sorted(edits, reverse=True):
        rewritten = rewritten[:start] + replacement + rewritten[end:]
    created = registered - set(catalog.user)
    removed = set(catalog.user) - registered
    suffix = []
    if removed:
        suffix.append(unregister_user_graphs(removed))
    if created:
        suffix.append(register_user_graphs(created))
    if suffix:
        ends_with_separator = bool(tokens) and tokens[-1].kind == "punct" and tokens[-1].text == ";"
        joiner = "\n" if (ends_with_separator or not ops) else "\n;\n"
        rewritten = rewritten + joiner + " ;\n".join(suffix)
    return UpdatePlan(rewritten, frozenset(created), frozenset(removed), tuple(dict.fromkeys(writes)))
