"""What a SPARQL request would do, found before it runs: its form, its dataset clauses, and every
remote IRI it would contact (``SERVICE``, ``LOAD``).

Method
------
pyoxigraph parses and runs a query in one call and exposes no algebra, and rdflib's parser (which
has one) costs tens of milliseconds per query in pure Python (``python -m carbonkg.server.benchmark
--parse``: about 65 ms against 0.25 ms for this tokeniser on a 9-line query). So this
module *tokenises* the request with the SPARQL 1.1 terminals (strings, long strings, IRIs,
prefixed names, variables, blank node labels, language tags, numbers, comments) and reads the
keywords from the token stream. A keyword inside a string, a comment, an IRI, a prefixed name
(``ex:service``) or a variable (``?service``) is therefore never a keyword, and a keyword written
in any case (``SeRvIcE``) is one. ``SERVICE`` can only be followed by whitespace, a comment, an IRI,
a prefixed name or a variable, none of which can hide it inside an IRI token (an IRI token has no
whitespace, ``<``, ``{`` or ``}``), so the scan cannot miss one; a false alarm at worst refuses a
query that oxigraph would also have rejected as malformed. The tests cross-check the tokeniser
with rdflib's algebra on a corpus of queries.

One more rule makes the scan match oxigraph's own parser: oxigraph matches a keyword without
requiring a word boundary after it, so ``SERVICEex:x { … }``, ``SERVICE:x { … }`` and
``GRAPH:g { … }`` read as the keyword followed by ``ex:x`` or ``:x``, and ``INSERTDATA`` as
``INSERT DATA``. A name or prefixed-name token that *starts with* ``SERVICE`` (and is followed by
``{`` within two tokens) or with ``LOAD`` (at the top level of an update), or a ``SILENT…`` token
right after ``SERVICE``/``LOAD``, is therefore a remote call whose target cannot be checked, and
is refused; a ``PREFIX…:`` token followed by an IRI is a declaration. (The update checker, which
parses operations strictly, refuses whatever else it cannot read; see
:mod:`carbonkg.server.update_plan`.)

This is not a validator: syntax errors are left to oxigraph, whose message carries the position.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from functools import lru_cache
from urllib.parse import urljoin

from carbonkg.server.problems import Problem

QUERY_FORMS = frozenset({"SELECT", "CONSTRUCT", "DESCRIBE", "ASK"})
UPDATE_KEYWORDS = frozenset({"INSERT", "DELETE", "LOAD", "CLEAR", "DROP", "CREATE", "ADD", "MOVE", "COPY", "WITH"})

_PN_CHARS_BASE = r"A-Za-z\u00C0-\u00D6\u00D8-\u00F6\u00F8-\u02FF\u0370-\u037D\u037F-\u1FFF\u200C-\u200D\u2070-\u218F\u2C00-\u2FEF\u3001-\uD7FF\uF900-\uFDCF\uFDF0-\uFFFD\U00010000-\U000EFFFF"
_PN_CHARS = _PN_CHARS_BASE + r"_0-9\-\u00B7\u0300-\u036F\u203F-\u2040"

_TOKEN = re.compile(
    rf"""
    (?P<ws>\s+)
  | (?P<comment>\#[^\r\n]*)
  | (?P<iri><[^<>"{{}}|^`\\\x00-\x20]*>)
  | (?P<string>'''(?:(?:'|'')?(?:[^'\\]|\\.))*'''
              | \"\"\"(?:(?:"|"")?(?:[^"\\]|\\.))*\"\"\"
              | '(?:[^'\\\n\r]|\\.)*'
              | "(?:[^"\\\n\r]|\\.)*")
  | (?P<bnode>_:[{_PN_CHARS}.]*)
  | (?P<var>[?$][{_PN_CHARS}]+)
  | (?P<pname>(?:[{_PN_CHARS_BASE}][{_PN_CHARS}.]*)?:(?:[{_PN_CHARS}.:]|%[0-9A-Fa-f]{{2}}|\\[_~.\-!$&'()*+,;=/?\#@%])*)
  | (?P<langtag>@[A-Za-z]+(?:-[A-Za-z0-9]+)*(?:--[A-Za-z]+)?)
  | (?P<number>[0-9]+\.[0-9]*(?:[eE][+-]?[0-9]+)?|\.[0-9]+(?:[eE][+-]?[0-9]+)?|[0-9]+(?:[eE][+-]?[0-9]+)?)
  | (?P<name>[{_PN_CHARS_BASE}_][{_PN_CHARS}]*)
  | (?P<punct>\^\^|<<|>>|\|\||&&|!=|<=|>=|[{{}}()\[\];,.=<>!+\-*/^|?~])
  | (?P<other>.)
    """,
    re.VERBOSE | re.DOTALL,
)


@dataclass(frozen=True, slots=True)
class Token:
    kind: str  # iri, string, bnode, var, pname, langtag, number, name, punct, other
    text: str
    start: int
    end: int

    @property
    def keyword(self) -> str:
        """The upper-cased text of a bare name (SPARQL keywords are case-insensitive), else ''."""
        return self.text.upper() if self.kind == "name" else ""


def tokenize(text: str) -> list[Token]:
    """The significant tokens of a SPARQL request (whitespace and comments dropped)."""
    tokens: list[Token] = []
    pos, end = 0, len(text)
    while pos < end:
        match = _TOKEN.match(text, pos)
        assert match is not None  # the `other` alternative matches any character
        kind = match.lastgroup or "other"
        stop = match.end()
        if kind == "pname" or kind == "bnode":
            # a local name cannot end with '.': that dot ends the triple
            while text[stop - 1] == "." and stop - 1 > pos and text[stop - 2] != "\\":
                stop -= 1
        if kind not in ("ws", "comment"):
            tokens.append(Token(kind, text[pos:stop], pos, stop))
        pos = stop
    return tokens


def line_column(text: str, offset: int) -> tuple[int, int]:
    """1-based line and column of a character offset."""
    line = text.count("\n", 0, offset) + 1
    column = offset - (text.rfind("\n", 0, offset) + 1) + 1
    return line, column


class Prologue:
    """BASE and PREFIX declarations seen so far, to turn IRI tokens into absolute IRIs."""

    def __init__(self, base: str | None) -> None:
        self.base = base
        self.prefixes: dict[str, str] = {}

    def resolve(self, token: Token) -> str | None:
        if token.kind == "iri":
            value = token.text[1:-1]
            return urljoin(self.base, value) if self.base else value
        if token.kind == "pname":
            prefix, _, local = token.text.partition(":")
            namespace = self.prefixes.get(prefix)
            if namespace is None:
                return None
            return namespace + re.sub(r"\\(.)", r"\1", local)
        return None

    def consume(self, tokens: Sequence[Token], i: int) -> int:
        """If tokens[i] starts a BASE or PREFIX declaration, record it and return the next index."""
        token = tokens[i]
        if (  # "PREFIX:<iri>" or "PREFIXex: <iri>": oxigraph reads PREFIX glued to the prefix name
            token.kind == "pname"
            and token.text.upper().startswith("PREFIX")
            and token.text.endswith(":")
            and i + 1 < len(tokens)
            and tokens[i + 1].kind == "iri"
        ):
            self.prefixes[token.text[len("PREFIX"):-1]] = self.resolve(tokens[i + 1]) or ""
            return i + 2
        keyword = token.keyword
        if keyword == "BASE" and i + 1 < len(tokens) and tokens[i + 1].kind == "iri":
            self.base = self.resolve(tokens[i + 1])
            return i + 2
        if (
            keyword == "PREFIX"
            and i + 2 < len(tokens)
            and tokens[i + 1].kind == "pname"
            and tokens[i + 1].text.endswith(":")
            and tokens[i + 2].kind == "iri"
        ):
            self.prefixes[tokens[i + 1].text[:-1]] = self.resolve(tokens[i + 2]) or ""
            return i + 3
        return i


@dataclass(frozen=True, slots=True)
class RemoteCall:
    """A ``SERVICE`` or ``LOAD`` in a request: the IRI it contacts (None for ``SERVICE ?var``)."""

    keyword: str  # SERVICE | LOAD
    iri: str | None
    token: Token
    variable: str | None = None
    glued: bool = False  # the keyword is glued to what follows (SERVICEex:x): the target is not checked


@dataclass(frozen=True, slots=True)
class QueryAnalysis:
    """What :func:`analyse_query` found; shared between requests with the same text (read-only)."""

    form: str | None  # SELECT, CONSTRUCT, DESCRIBE, ASK, or None if not found
    is_update: bool
    from_graphs: list[str] = field(default_factory=list)
    from_named_graphs: list[str] = field(default_factory=list)
    remote_calls: list[RemoteCall] = field(default_factory=list)
    # whether the query may read named graphs: a name or prefixed name starting with GRAPH
    # (the keyword, or glued like ``GRAPH:g``; a prefix ``graph:`` counts too, erring on the safe side)
    reads_named_graphs: bool = True

    @property
    def result_kind(self) -> str | None:
        return {"SELECT": "solutions", "ASK": "boolean", "CONSTRUCT": "graph", "DESCRIBE": "graph"}.get(self.form or "")


def _glued(token: Token | None, keyword: str) -> bool:
    """A name or prefixed name that oxigraph may read as ``keyword`` followed by the rest."""
    if token is None or token.kind not in ("name", "pname"):
        return False
    text = token.text.upper()
    return text.startswith(keyword) and text != keyword


def _is_brace(token: Token | None) -> bool:
    return token is not None and token.kind == "punct" and token.text == "{"


def find_remote_calls(tokens: Sequence[Token], prologue_base: str | None, *, update: bool = False) -> list[RemoteCall]:
    """Every SERVICE and LOAD with the IRI it names (prefixes resolved as declared so far), and
    every token that may hide one (see the module documentation)."""
    prologue = Prologue(prologue_base)
    calls: list[RemoteCall] = []
    depth = 0
    i = 0
    n = len(tokens)
    while i < n:
        nxt = prologue.consume(tokens, i)
        if nxt != i:
            i = nxt
            continue
        token = tokens[i]
        keyword = token.keyword
        if token.kind == "punct" and token.text in "{}":
            depth += 1 if token.text == "{" else -1
        elif keyword in ("SERVICE", "LOAD"):
            j = i + 1
            if j < n and tokens[j].keyword == "SILENT":
                j += 1
            target = tokens[j] if j < n else None
            if target is not None and target.kind == "var":
                calls.append(RemoteCall(keyword, None, token, variable=target.text))
            elif _glued(target, "SILENT"):
                calls.append(RemoteCall(keyword, None, target, glued=True))
            else:
                iri = prologue.resolve(target) if target is not None else None
                calls.append(RemoteCall(keyword, iri, token))
        elif _glued(token, "SERVICE") and (_is_brace(tokens[i + 1] if i + 1 < n else None)
                                             or _is_brace(tokens[i + 2] if i + 2 < n else None)):
            calls.append(RemoteCall("SERVICE", None, token, glued=True))
        elif update and depth == 0 and _glued(token, "LOAD"):
            calls.append(RemoteCall("LOAD", None, token, glued=True))
        i += 1
    return calls


#: queries up to this length are remembered by :func:`analyse_query` (at most ``_CACHED`` of them)
_CACHE_CHARS = 16 * 1024
_CACHED = 256


def analyse_query(text: str, *, base: str | None) -> QueryAnalysis:
    """Form, dataset clauses and remote calls of a query (or notice that it is an update).

    The analysis of a query text up to ``_CACHE_CHARS`` long is remembered (bounded LRU, keyed by
    text and base): the same queries come back again and again, and tokenising costs 30–150 µs.
    The result is shared: treat it as read-only."""
    if len(text) <= _CACHE_CHARS:
        return _analyse_cached(text, base)
    return _analyse(text, base)


def _analyse(text: str, base: str | None) -> QueryAnalysis:
    tokens = tokenize(text)
    prologue = Prologue(base)
    form: str | None = None
    is_update = False
    froms: list[str] = []
    from_named: list[str] = []
    depth = 0
    i = 0
    while i < len(tokens):
        token = tokens[i]
        if depth == 0 and form is None and not is_update:
            nxt = prologue.consume(tokens, i)
            if nxt != i:
                i = nxt
                continue
            if token.keyword in QUERY_FORMS:
                form = token.keyword
            elif token.keyword in UPDATE_KEYWORDS:
                is_update = True
        if token.text == "{" and token.kind == "punct":
            depth += 1
        elif token.text == "}" and token.kind == "punct":
            depth -= 1
        elif depth == 0 and token.keyword == "FROM" and form is not None:
            j = i + 1
            named = j < len(tokens) and tokens[j].keyword == "NAMED"
            if named:
                j += 1
            if j < len(tokens):
                iri = prologue.resolve(tokens[j])
                if iri is not None:
                    (from_named if named else froms).append(iri)
            i = j
        i += 1
    reads_named = any(t.kind in ("name", "pname") and t.text[:5].upper() == "GRAPH" for t in tokens)
    return QueryAnalysis(form, is_update, froms, from_named, find_remote_calls(tokens, base), reads_named)


_analyse_cached = lru_cache(maxsize=_CACHED)(_analyse)


def is_allowed(iri: str | None, allow_list: Iterable[str]) -> bool:
    """An allow-list entry matches an IRI exactly, or as a prefix when it ends with ``*``."""
    if iri is None:
        return False
    for entry in allow_list:
        if entry.endswith("*") and iri.startswith(entry[:-1]):
            return True
        if iri == entry:
            return True
    return False


def check_remote_calls(text: str, calls: Sequence[RemoteCall], allow_list: Sequence[str]) -> None:
    """Refuse (403) the first SERVICE or LOAD whose IRI is not on the allow-list."""
    for call in calls:
        if not call.glued and is_allowed(call.iri, allow_list):
            continue
        line, column = line_column(text, call.token.start)
        slug = "service-not-allowed" if call.keyword == "SERVICE" else "load-not-allowed"
        title = "Remote service not allowed" if call.keyword == "SERVICE" else "LOAD not allowed"
        if call.glued:
            detail = (
                f"{call.token.text!r} at line {line}, column {column} reads as {call.keyword} (or SILENT) glued "
                f"to what follows, so its target cannot be checked against the allow-list; "
                f"write a space after the keyword"
            )
        else:
            if call.iri is None and call.variable is not None:
                what = f"{call.keyword} {call.variable} (a variable endpoint)"
            elif call.iri is None:
                what = f"{call.keyword} with an IRI that cannot be resolved"
            else:
                what = f"{call.keyword} <{call.iri}>"
            detail = (
                f"{what} at line {line}, column {column} is not allowed: this server contacts only the "
                f"IRIs on its allow-list (CARBONKG_ALLOW_SERVICE), which "
                + ("is empty" if not allow_list else "does not include it")
            )
        raise Problem(403, title, detail, slug=slug, line=line, column=column)
