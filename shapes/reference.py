"""The reference validation path: pySHACL over an rdflib graph.

pySHACL implements SHACL Core and SHACL-SPARQL (including SPARQL-based constraint components)
and passes the W3C test suite (tests/shapes/test_w3c_suite.py); carbonkg's fast path is checked
against it. Use it for small data and for checking; it is slow on large stores.
"""

from __future__ import annotations

from rdflib import Graph, URIRef
from rdflib.namespace import SH

from carbonkg.shapes.fast import nt, path_sparql
from carbonkg.shapes.model import Result


class PreparedQueryGraph(Graph):
    """An rdflib graph that parses each SPARQL query text once.

    pySHACL runs a SPARQL constraint once per focus node and hands rdflib the query text each
    time; rdflib's parser then dominates (about 0.1 s a query). Parsing once per text keeps the
    reference path usable on the bundled exports. Results are unchanged: the same prepared query
    is evaluated with the same initial bindings."""

    _prepared: dict = {}

    def query(self, query_object, *args, **kwargs):  # type: ignore[override]
        if isinstance(query_object, str):
            from rdflib.plugins.sparql import prepareQuery

            init_ns = kwargs.get("initNs") or {}
            key = (query_object, tuple(sorted((str(k), str(v)) for k, v in dict(init_ns).items())))
            prepared = self._prepared.get(key)
            if prepared is None:
                prepared = self._prepared[key] = prepareQuery(query_object, initNs=dict(init_ns))
            query_object = prepared
        return super().query(query_object, *args, **kwargs)


def run_pyshacl(data: Graph, shapes: Graph, **options) -> tuple[bool, Graph]:
    """pySHACL on ``data`` (validated in place: nothing is inferred, so nothing is added)."""
    import pyshacl

    if not isinstance(data, PreparedQueryGraph):
        copy = PreparedQueryGraph()
        for triple in data:
            copy.add(triple)
        data = copy
    conforms, report, _ = pyshacl.validate(
        data,
        inplace=True,
        shacl_graph=shapes,
        inference="none",
        abort_on_first=False,
        allow_infos=True,
        allow_warnings=True,
        advanced=options.pop("advanced", False),
        **options,
    )
    return bool(conforms), report


def results_from_report(report: Graph) -> list[Result]:
    """The results of a sh:ValidationReport graph, keyed like the fast path's."""
    results = []
    for node in report.objects(None, SH.result):
        focus = report.value(node, SH.focusNode)
        path = report.value(node, SH.resultPath)
        value = report.value(node, SH.value)
        message = report.value(node, SH.resultMessage)
        results.append(Result(
            focus=nt(focus),
            path=path_sparql(report, path) if path is not None else None,
            value=nt(value) if value is not None else None,
            shape=str(report.value(node, SH.sourceShape)),
            severity=str(report.value(node, SH.resultSeverity)),
            component=str(report.value(node, SH.sourceConstraintComponent)),
            message=str(message) if message is not None else "",
        ))
    return results


def validate_oxigraph(data, shapes: Graph) -> list[Result]:
    """pySHACL over a pyoxigraph Store (its own Oxigraph backend: SPARQL constraints run in
    Oxigraph with pre-bound variables substituted); faster than rdflib on the same data."""
    import pyshacl

    _, report, _ = pyshacl.validate(data, shacl_graph=shapes, inference="none", allow_infos=True,
                                    allow_warnings=True, inplace=True)
    return results_from_report(report)


def validate_graph(data: Graph, shapes: Graph, *, focus_nodes: list[str] | None = None) -> list[Result]:
    """pySHACL's results; with ``focus_nodes`` (IRIs), only for those focus nodes."""
    options = {"focus_nodes": [URIRef(n) for n in focus_nodes]} if focus_nodes is not None else {}
    _, report = run_pyshacl(data, shapes, **options)
    return results_from_report(report)


__all__ = ["PreparedQueryGraph", "validate_graph", "run_pyshacl", "results_from_report"]
