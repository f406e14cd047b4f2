"""The reference validation path: pySHACL over an rdflib graph.

pySHACL implements SHACL Core and SHACL-SPARQL (including SPARQL-based constraint components)
and passes the W3C test suite (tests/shapes/test_w3c_suite.py); carbonkg's fast path is checked
against it. Use it for small data and for checking; it is slow on large stores.
"""

from __future__ import annotations

from rdflib import BNode, Graph, Literal, URIRef
from rdflib.namespace import RDF, SH

from carbonkg.shapes.fast import nt, path_sparql
from carbonkg.shapes.model import Result


def run_pyshacl(data: Graph, shapes: Graph, **options) -> tuple[bool, Graph]:
    import pyshacl

    conforms, report, _ = pyshacl.validate(
        data,
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


def validate_graph(data: Graph, shapes: Graph) -> list[Result]:
    _, report = run_pyshacl(data, shapes)
    return results_from_report(report)


__all__ = ["validate_graph", "run_pyshacl", "results_from_report", "BNode", "Literal", "URIRef", "RDF"]
