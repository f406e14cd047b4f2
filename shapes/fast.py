"""The fast validation path: the carbonkg shapes compiled to SPARQL and run on Oxigraph.

pySHACL (:mod:`carbonkg.shapes.reference`) is the reference implementation; this module gives
the same results on the store itself, in seconds, by

- compiling every core constraint of a shape into one set-based SELECT over all focus nodes
  (``?this`` joined with the shape's targets) instead of checking focus node by focus node;
- running each SHACL-SPARQL constraint once with ``$this`` left free (the queries in the shape
  files are written so that this gives the same solutions as pre-binding), keeping the solutions
  whose ``$this`` is a focus node of the shape;
- running the two constraints marked ``cksh:nativeImplementation`` natively, with a sort and
  sweep over serial ranges (their SPARQL self-joins on a serial prefix, which is quadratic where
  one prefix holds a whole registry).

It supports the subset of SHACL that carbonkg's shapes use and refuses any other constraint
(``UnsupportedShape``), so that a shape can never be skipped silently. Tests check that both
paths agree on every shape example and on the bundled exports.
"""

from __future__ import annotations

import re
import time
from collections import defaultdict
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field

from rdflib import BNode, Graph, Literal, URIRef
from rdflib.collection import Collection
from rdflib.namespace import RDF, SH

from carbonkg.shapes.model import CKSH, Result

#: runs a SPARQL SELECT over the data and returns pyoxigraph solutions
Runner = Callable[[str], Iterable]

XSD = "http://www.w3.org/2001/XMLSchema#"
RDF_TYPE = "<http://www.w3.org/1999/02/22-rdf-syntax-ns#type>"
SUBCLASS = "<http://www.w3.org/2000/01/rdf-schema#subClassOf>"

FAST_SELECT = URIRef(CKSH + "fastSelect")
NATIVE = URIRef(CKSH + "nativeImplementation")
SERIAL_OVERLAP = URIRef(CKSH + "SerialOverlapSweep")
DOUBLE_USE = URIRef(CKSH + "DoubleUseSweep")

#: shape predicates that are not constraints (or are handled where the shape is read)
_NON_CONSTRAINTS = {
    RDF.type, SH.targetClass, SH.targetNode, SH.targetSubjectsOf, SH.targetObjectsOf, SH.property,
    SH.sparql, SH.message, SH.severity, SH.path, SH.name, SH.description, SH.order, SH.group,
    SH.deactivated, URIRef("http://www.w3.org/2000/01/rdf-schema#label"),
    URIRef("http://www.w3.org/2000/01/rdf-schema#comment"), SH.declare, SH.prefixes,
}


class UnsupportedShape(ValueError):
    """A shape uses SHACL that the fast path does not implement."""


def nt(term) -> str:
    """An rdflib term in N-Triples form (the key form of :class:`Result`)."""
    if isinstance(term, URIRef):
        return f"<{term}>"
    if isinstance(term, BNode):
        return f"_:{term}"
    if isinstance(term, Literal) and term.datatype is not None and str(term.datatype) == XSD + "string":
        return Literal(str(term)).n3()  # xsd:string is the plain literal (RDF 1.1)
    return term.n3()


def ox_nt(term) -> str | None:
    """A pyoxigraph term in N-Triples form."""
    if term is None:
        return None
    return str(term)


@dataclass
class Check:
    """One compiled query: its solutions are results of ``shape`` (``?this``, ``?value``)."""

    shape: str
    severity: str
    component: str
    message: str
    path: str | None
    query: str
    has_value: bool = True


@dataclass
class SparqlCheck:
    shape: str
    severity: str
    message: str
    path: str | None
    query: str
    is_node_shape: bool
    targets: str


@dataclass
class NativeCheck:
    shape: str
    severity: str
    message: str
    component: str
    kind: URIRef
    targets: str


@dataclass
class Plan:
    checks: list[Check] = field(default_factory=list)
    sparql: list[SparqlCheck] = field(default_factory=list)
    native: list[NativeCheck] = field(default_factory=list)


# -- reading the shapes ------------------------------------------------------------------------


def _one(graph: Graph, node, predicate):
    return next(graph.objects(node, predicate), None)


def _list(graph: Graph, node) -> list:
    return list(Collection(graph, node))


def path_sparql(graph: Graph, path) -> str:
    """A SHACL path as a SPARQL property path (and as the key form of a result path)."""
    if isinstance(path, URIRef):
        return f"<{path}>"
    inverse = _one(graph, path, SH.inversePath)
    if inverse is not None:
        return "^" + path_sparql(graph, inverse)
    alternative = _one(graph, path, SH.alternativePath)
    if alternative is not None:
        return "(" + "|".join(path_sparql(graph, p) for p in _list(graph, alternative)) + ")"
    if (path, RDF.first, None) in graph:
        return "(" + "/".join(path_sparql(graph, p) for p in _list(graph, path)) + ")"
    for kind, suffix in ((SH.zeroOrMorePath, "*"), (SH.oneOrMorePath, "+"), (SH.zeroOrOnePath, "?")):
        inner = _one(graph, path, kind)
        if inner is not None:
            return "(" + path_sparql(graph, inner) + ")" + suffix
    raise UnsupportedShape(f"unsupported path {path!r}")


def target_pattern(graph: Graph, shape) -> str | None:
    """A graph pattern binding ?this to every focus node of a node shape (None: no targets)."""
    parts = []
    for cls in graph.objects(shape, SH.targetClass):
        parts.append(f"?this {RDF_TYPE}/{SUBCLASS}* {nt(cls)} .")
    for prop in graph.objects(shape, SH.targetSubjectsOf):
        parts.append(f"?this {nt(prop)} ?_target .")
    for prop in graph.objects(shape, SH.targetObjectsOf):
        parts.append(f"?_target {nt(prop)} ?this .")
    nodes = list(graph.objects(shape, SH.targetNode))
    if nodes:
        parts.append("VALUES ?this { " + " ".join(nt(n) for n in nodes) + " }")
    if not parts:
        return None
    if len(parts) == 1:
        return "{ SELECT DISTINCT ?this WHERE { " + parts[0] + " } }"
    return "{ SELECT DISTINCT ?this WHERE { " + " UNION ".join("{ " + p + " }" for p in parts) + " } }"


def prefixes_header(graph: Graph, constraint) -> str:
    lines = []
    for prefixes in graph.objects(constraint, SH.prefixes):
        for declaration in graph.objects(prefixes, SH.declare):
            prefix = _one(graph, declaration, SH.prefix)
            namespace = _one(graph, declaration, SH.namespace)
            lines.append(f"PREFIX {prefix}: <{namespace}>")
    return "\n".join(lines) + "\n"


def _severity(graph: Graph, shape, default=SH.Violation) -> str:
    return str(_one(graph, shape, SH.severity) or default)


def _message(graph: Graph, *nodes) -> str:
    for node in nodes:
        message = _one(graph, node, SH.message)
        if message is not None:
            return str(message)
    return ""


def _in_filter(members: list) -> str:
    """SPARQL condition: ?v is none of ``members`` (RDF term equality, as sh:in)."""
    iris = [nt(m) for m in members if isinstance(m, URIRef)]
    literals = [nt(m) for m in members if isinstance(m, Literal)]
    conditions = []
    if iris:
        conditions.append("(isIRI(?v) && ?v NOT IN (" + ", ".join(iris) + "))")
    else:
        conditions.append("isIRI(?v)")
    if literals:
        conditions.append("(isLiteral(?v) && !(" + " || ".join(f"sameTerm(?v, {lit})" for lit in literals) + "))")
    else:
        conditions.append("isLiteral(?v)")
    conditions.append("isBlank(?v)")
    return "(" + " || ".join(conditions) + ")"


def _class_filter(classes: list) -> str:
    """Pattern + filter: ?v is an instance (rdf:type/rdfs:subClassOf*) of none of ``classes``."""
    branches = " UNION ".join(f"{{ ?v {RDF_TYPE}/{SUBCLASS}* {nt(c)} }}" for c in classes)
    return f"MINUS {{ {branches} }}"


def _value_condition(graph: Graph, predicate, obj, shape) -> str:
    """A pattern-and-filter fragment that holds for a value ?v violating one value constraint."""
    if predicate == SH.datatype:
        if str(obj) == XSD + "string":
            return "FILTER (!isLiteral(?v) || DATATYPE(?v) != <http://www.w3.org/2001/XMLSchema#string> || LANG(?v) != \"\")"
        return f"FILTER (!isLiteral(?v) || DATATYPE(?v) != {nt(obj)})"
    if predicate == SH.nodeKind:
        kinds = {
            SH.IRI: "isIRI(?v)", SH.BlankNode: "isBlank(?v)", SH.Literal: "isLiteral(?v)",
            SH.BlankNodeOrIRI: "(isBlank(?v) || isIRI(?v))", SH.BlankNodeOrLiteral: "(isBlank(?v) || isLiteral(?v))",
            SH.IRIOrLiteral: "(isIRI(?v) || isLiteral(?v))",
        }
        return f"FILTER (!{kinds[obj]})"
    if predicate == SH["class"]:
        return _class_filter([obj])
    if predicate == SH["in"]:
        return f"FILTER {_in_filter(_list(graph, obj))}"
    if predicate in (SH.minInclusive, SH.minExclusive, SH.maxInclusive, SH.maxExclusive):
        op = {SH.minInclusive: ">=", SH.minExclusive: ">", SH.maxInclusive: "<=", SH.maxExclusive: "<"}[predicate]
        return f"FILTER (!COALESCE(?v {op} {nt(obj)}, false))"
    if predicate in (SH.minLength, SH.maxLength):
        op = ">=" if predicate == SH.minLength else "<="
        return f"FILTER (isBlank(?v) || !(STRLEN(STR(?v)) {op} {int(obj)}))"
    if predicate == SH.pattern:
        flags = _one(graph, shape, SH.flags)
        pattern = Literal(str(obj)).n3()
        flag_text = f", {Literal(str(flags)).n3()}" if flags is not None else ""
        return f"FILTER (isBlank(?v) || !COALESCE(REGEX(STR(?v), {pattern}{flag_text}), false))"
    if predicate == SH.node:
        return _node_condition(graph, obj)
    if predicate == SH["or"]:
        classes = []
        for member in _list(graph, obj):
            keys = {p for p, _ in graph.predicate_objects(member)} - {RDF.type}
            if keys != {SH["class"]}:
                raise UnsupportedShape(f"sh:or member of {shape} other than [ sh:class C ]")
            classes.append(_one(graph, member, SH["class"]))
        return _class_filter(classes)
    raise UnsupportedShape(f"{predicate} on {shape}")


def _node_condition(graph: Graph, node_shape) -> str:
    """sh:node to a shape that holds only sh:in or sh:class (the generated concept shapes)."""
    constraints = {p for p, _ in graph.predicate_objects(node_shape)} - _NON_CONSTRAINTS
    if constraints == {SH["in"]}:
        return f"FILTER {_in_filter(_list(graph, _one(graph, node_shape, SH['in'])))}"
    if constraints == {SH["class"]}:
        return _class_filter(list(graph.objects(node_shape, SH["class"])))
    raise UnsupportedShape(f"sh:node {node_shape}: only shapes with sh:in or sh:class are supported")


VALUE_COMPONENTS = {
    SH.datatype: "DatatypeConstraintComponent", SH.nodeKind: "NodeKindConstraintComponent",
    SH["class"]: "ClassConstraintComponent", SH["in"]: "InConstraintComponent",
    SH.minInclusive: "MinInclusiveConstraintComponent", SH.minExclusive: "MinExclusiveConstraintComponent",
    SH.maxInclusive: "MaxInclusiveConstraintComponent", SH.maxExclusive: "MaxExclusiveConstraintComponent",
    SH.minLength: "MinLengthConstraintComponent", SH.maxLength: "MaxLengthConstraintComponent",
    SH.pattern: "PatternConstraintComponent", SH.node: "NodeConstraintComponent",
    SH["or"]: "OrConstraintComponent",
}
PAIR_COMPONENTS = {
    SH.lessThan: ("LessThanConstraintComponent", "<"),
    SH.lessThanOrEquals: ("LessThanOrEqualsConstraintComponent", "<="),
}


def compile_shapes(graph: Graph) -> Plan:
    """Compile every node shape with targets (and its property shapes) into queries."""
    plan = Plan()
    shapes = set(graph.subjects(RDF.type, SH.NodeShape))
    for predicate in (SH.targetClass, SH.targetNode, SH.targetSubjectsOf, SH.targetObjectsOf):
        shapes.update(graph.subjects(predicate, None))
    for shape in sorted(shapes, key=str):
        if _one(graph, shape, SH.deactivated) == Literal(True):
            continue
        targets = target_pattern(graph, shape)
        if targets is None:
            continue
        _compile_node_shape(graph, shape, targets, plan)
    return plan


def _compile_node_shape(graph: Graph, shape, targets: str, plan: Plan) -> None:
    severity = _severity(graph, shape)
    for predicate, obj in graph.predicate_objects(shape):
        if predicate in _NON_CONSTRAINTS or predicate == SH.flags:
            continue
        raise UnsupportedShape(f"node-level {predicate} on {shape}")
    for constraint in graph.objects(shape, SH.sparql):
        native = _one(graph, constraint, NATIVE)
        if native is not None:
            if native not in NATIVE_IMPLEMENTATIONS:
                raise UnsupportedShape(f"unknown cksh:nativeImplementation {native} on {shape}")
            plan.native.append(NativeCheck(str(shape), severity, _message(graph, constraint, shape),
                                           str(SH.SPARQLConstraintComponent), native, targets))
            continue
        # cksh:fastSelect: the same constraint written set-at-a-time for Oxigraph (MINUS instead
        # of a slow FILTER NOT EXISTS; not allowed in SHACL-SPARQL, where $this is pre-bound)
        select = _one(graph, constraint, FAST_SELECT) or _one(graph, constraint, SH.select)
        plan.sparql.append(SparqlCheck(
            str(shape), severity, _message(graph, constraint, shape), None,
            prefixes_header(graph, constraint) + str(select), True, targets))
    for prop in graph.objects(shape, SH.property):
        if _one(graph, prop, SH.deactivated) == Literal(True):
            continue
        _compile_property_shape(graph, prop, targets, plan)


def _compile_property_shape(graph: Graph, prop, targets: str, plan: Plan) -> None:
    path = path_sparql(graph, _one(graph, prop, SH.path))
    severity = _severity(graph, prop)
    message = _message(graph, prop)
    name = str(prop)
    for predicate, obj in graph.predicate_objects(prop):
        if predicate in _NON_CONSTRAINTS or predicate == SH.flags:
            continue
        if predicate == SH.minCount:
            query = (f"SELECT ?this WHERE {{ {targets} OPTIONAL {{ ?this {path} ?v }} }} "
                     f"GROUP BY ?this HAVING (COUNT(DISTINCT ?v) < {int(obj)})")
            plan.checks.append(Check(name, severity, str(SH.MinCountConstraintComponent), message, path, query, False))
        elif predicate == SH.maxCount:
            query = (f"SELECT ?this WHERE {{ {targets} ?this {path} ?v }} "
                     f"GROUP BY ?this HAVING (COUNT(DISTINCT ?v) > {int(obj)})")
            plan.checks.append(Check(name, severity, str(SH.MaxCountConstraintComponent), message, path, query, False))
        elif predicate in PAIR_COMPONENTS:
            component, op = PAIR_COMPONENTS[predicate]
            query = (f"SELECT DISTINCT ?this ?v WHERE {{ {targets} ?this {path} ?v . ?this {nt(obj)} ?w . "
                     f"FILTER (!COALESCE(?v {op} ?w, false)) }}")
            plan.checks.append(Check(name, severity, str(SH[component]), message, path, query))
        elif predicate in VALUE_COMPONENTS:
            condition = _value_condition(graph, predicate, obj, prop)
            query = f"SELECT DISTINCT ?this ?v WHERE {{ {targets} ?this {path} ?v . {condition} }}"
            plan.checks.append(Check(name, severity, str(SH[VALUE_COMPONENTS[predicate]]), message, path, query))
        elif predicate == SH.sparql:
            raise UnsupportedShape(f"sh:sparql on property shape {prop}")
        else:
            raise UnsupportedShape(f"{predicate} on {prop}")


# -- running -----------------------------------------------------------------------------------

_TEMPLATE = re.compile(r"\{[?$]([A-Za-z_][A-Za-z0-9_]*)\}")


def render_message(template: str, solution: Callable[[str], str | None]) -> str:
    def repl(m: re.Match) -> str:
        value = solution(m[1])
        if value is None:
            return m[0]
        from carbonkg.shapes.model import literal_text

        return literal_text(value)

    return _TEMPLATE.sub(repl, template)


class FastValidator:
    """Validate data reachable through a SPARQL runner against compiled shapes."""

    def __init__(self, shapes: Graph) -> None:
        self.shapes = shapes
        self.plan = compile_shapes(shapes)
        self.timings: dict[str, float] = defaultdict(float)

    def validate(self, run: Runner) -> list[Result]:
        results: list[Result] = []
        for check in self.plan.checks:
            started = time.perf_counter()
            for solution in run(check.query):
                value = ox_nt(solution["v"]) if check.has_value else None
                results.append(Result(ox_nt(solution["this"]), check.path, value, check.shape,
                                      check.severity, check.component, check.message))
            self.timings[check.shape] += time.perf_counter() - started
        focus_cache: dict[str, set[str]] = {}
        for sparql in self.plan.sparql:
            started = time.perf_counter()
            results.extend(self._run_sparql(sparql, run, focus_cache))
            self.timings[sparql.shape] += time.perf_counter() - started
        for native in self.plan.native:
            started = time.perf_counter()
            focus = _focus_nodes(native.targets, run, focus_cache)
            for this, value in NATIVE_IMPLEMENTATIONS[native.kind](run):
                if this in focus:
                    message = render_message(native.message, lambda name: value if name == "value" else this if name == "this" else None)
                    results.append(Result(this, None, value, native.shape, native.severity, native.component, message))
            self.timings[native.shape] += time.perf_counter() - started
        return results

    def _run_sparql(self, check: SparqlCheck, run: Runner, focus_cache: dict[str, set[str]]) -> Iterator[Result]:
        focus = _focus_nodes(check.targets, run, focus_cache)
        component = str(SH.SPARQLConstraintComponent)
        seen = set()
        for solution in run(check.query):
            this = ox_nt(solution["this"])
            if this not in focus:
                continue
            value = ox_nt(solution["value"]) if _bound(solution, "value") else this
            path = ox_nt(solution["path"]) if _bound(solution, "path") else check.path
            key = (this, path, value)
            if key in seen:
                continue
            seen.add(key)
            message = render_message(check.message, lambda name: ox_nt(solution[name]) if _bound(solution, name) else None)
            yield Result(this, path, value, check.shape, check.severity, component, message)


def _bound(solution, name: str) -> bool:
    try:
        return solution[name] is not None
    except (KeyError, IndexError):
        return False


def _focus_nodes(targets: str, run: Runner, cache: dict[str, set[str]]) -> set[str]:
    if targets not in cache:
        cache[targets] = {ox_nt(s["this"]) for s in run(f"SELECT ?this WHERE {targets}")}
    return cache[targets]


# -- native components -------------------------------------------------------------------------

_CK = "https://w3id.org/carbonkg/ontology#"


def _sweep(ranges: list[tuple[int, int, str]]) -> Iterator[tuple[str, str, int, int, int, int]]:
    """Pairs of intersecting ranges ``(a, b, s1, e1, s2, e2)``, each unordered pair once.

    Sorted by start; the active list holds ranges whose end reaches the current start."""
    ranges.sort()
    active: list[tuple[int, int, str]] = []
    for start, end, node in ranges:
        active = [r for r in active if r[1] >= start]
        for s, e, other in active:
            yield other, node, s, e, start, end
        active.append((start, end, node))


def serial_overlaps(run: Runner) -> Iterator[tuple[str, str]]:
    """cksh:NoSerialOverlapConstraintComponent, natively: (block, other block) pairs."""
    issued = {ox_nt(s["b"]) for s in run(f"SELECT DISTINCT ?b WHERE {{ ?i <{_CK}generatedBlock> ?b }}")}
    groups: dict[tuple[str, str], list[tuple[int, int, str]]] = defaultdict(list)
    query = (f"SELECT DISTINCT ?b ?p ?s ?e ?r WHERE {{ ?b <{_CK}serialPrefix> ?p ; <{_CK}serialStart> ?s ; "
             f"<{_CK}serialEnd> ?e ; <{_CK}recordedIn> ?r . FILTER (isLiteral(?s) && isLiteral(?e)) }}")
    for s in run(query):
        try:
            start, end = int(s["s"].value), int(s["e"].value)
        except ValueError:
            continue
        groups[(str(s["r"]), str(s["p"]))].append((start, end, ox_nt(s["b"])))
    for ranges in groups.values():
        for a, b, s1, e1, s2, e2 in _sweep(ranges):
            if a == b:
                continue
            nested = (s1 <= s2 and e2 <= e1) or (s2 <= s1 and e1 <= e2)
            if (a in issued and b in issued) or not nested:
                yield a, b
                yield b, a


def double_uses(run: Runner) -> Iterator[tuple[str, str]]:
    """cksh:NoDoubleUseConstraintComponent, natively: (event, other event) pairs."""
    classes = ", ".join(f"<{_CK}{c}>" for c in ("Retirement", "Cancellation", "RetirementOrCancellation"))
    events_of: dict[str, set[str]] = defaultdict(set)
    for s in run(f"SELECT DISTINCT ?e ?b WHERE {{ ?e a ?c ; <{_CK}affectsBlock> ?b . FILTER (?c IN ({classes})) }}"):
        events_of[ox_nt(s["b"])].add(ox_nt(s["e"]))
    all_blocks_events: dict[str, set[str]] = defaultdict(set)
    for s in run(f"SELECT DISTINCT ?e ?b WHERE {{ ?e <{_CK}affectsBlock> ?b }}"):
        all_blocks_events[ox_nt(s["b"])].add(ox_nt(s["e"]))
    numbered = {ox_nt(s["b"]) for s in run(f"SELECT DISTINCT ?b WHERE {{ ?e <{_CK}affectsBlock> ?b . ?b <{_CK}serialStart> ?s }}")}
    pairs: set[tuple[str, str]] = set()
    # the same serial-numbered block: every event on it against every other of the three classes
    for block, users in events_of.items():
        if block not in numbered:
            continue
        for this in all_blocks_events[block]:
            for other in users:
                if other != this:
                    pairs.add((this, other))
    # intersecting ranges of different blocks under one prefix, in any registry
    groups: dict[str, list[tuple[int, int, str]]] = defaultdict(list)
    query = (f"SELECT DISTINCT ?b ?p ?s ?e WHERE {{ ?ev <{_CK}affectsBlock> ?b . ?b <{_CK}serialPrefix> ?p ; "
             f"<{_CK}serialStart> ?s ; <{_CK}serialEnd> ?e . FILTER (isLiteral(?s) && isLiteral(?e)) }}")
    for s in run(query):
        try:
            start, end = int(s["s"].value), int(s["e"].value)
        except ValueError:
            continue
        groups[str(s["p"])].append((start, end, ox_nt(s["b"])))
    for ranges in groups.values():
        for a, b, *_ in _sweep(ranges):
            if a == b:
                continue
            for x, y in ((a, b), (b, a)):
                for this in all_blocks_events[x]:
                    for other in events_of.get(y, ()):
                        if other != this:
                            pairs.add((this, other))
    yield from pairs


NATIVE_IMPLEMENTATIONS = {SERIAL_OVERLAP: serial_overlaps, DOUBLE_USE: double_uses}
