"""Validation reports for people (text), programs (JSON) and the graph (Turtle sh:ValidationReport).

Every result lists its focus node, message, value and the source rows (registry, file, row
number) of every record involved, found through csvw:Row / ck:fileName provenance.
"""

from __future__ import annotations

import json
from datetime import datetime, timezone

from carbonkg.shapes.model import CKSH, INFO, SEVERITY_NAMES, SH, VIOLATION, WARNING, literal_text, short
from carbonkg.shapes.validate import Report

FORMATS = ("text", "json", "turtle")


def summary_line(report: Report) -> str:
    return (f"{len(report.results)} results: {report.count(VIOLATION)} violations, {report.count(WARNING)} warnings, "
            f"{report.count(INFO)} infos ({report.engine} engine, sets {', '.join(report.sets)}, {report.seconds:.2f} s)")


def render_text(report: Report, *, limit: int | None = None) -> str:
    lines = [("conforms" if report.conforms else "does not conform") + ": " + summary_line(report)]
    if report.results:
        lines.append("")
        lines.append("by shape and severity:")
        for shape, severity, n in report.by_shape():
            lines.append(f"  {SEVERITY_NAMES.get(severity, severity):9} {n:6}  {short(shape)}")
        lines.append("")
        lines.append("results:")
    shown = report.results if limit is None else report.results[:limit]
    for result in shown:
        lines.append(f"[{result.severity_name}] {short(result.shape)}  {short(result.focus)}")
        lines.append(f"    {result.message}")
        if result.path:
            lines.append(f"    path: {short(result.path)}")
        if result.value and result.value != result.focus:
            shown_value = literal_text(result.value) if result.value.startswith('"') else short(result.value)
            lines.append(f"    value: {shown_value}")
        for source in report.sources_of(result):
            lines.append(f"    source: {source.registry}/{source.file} row {source.row}  ({short('<' + source.node + '>')})")
    if limit is not None and len(report.results) > limit:
        lines.append(f"... and {len(report.results) - limit} more results (--limit)")
    return "\n".join(lines) + "\n"


def as_json(report: Report) -> dict:
    return {
        "conforms": report.conforms,
        "engine": report.engine,
        "sets": report.sets,
        "seconds": round(report.seconds, 3),
        "counts": {SEVERITY_NAMES[s]: report.count(s) for s in (VIOLATION, WARNING, INFO)},
        "byShape": [{"shape": shape, "severity": SEVERITY_NAMES.get(sev, sev), "results": n}
                    for shape, sev, n in report.by_shape()],
        "results": [
            {
                "shape": r.shape,
                "severity": r.severity_name,
                "component": r.component,
                "focusNode": r.focus,
                "path": r.path,
                "value": r.value,
                "message": r.message,
                "sources": [{"record": s.node, "registry": s.registry, "file": s.file, "row": s.row, "rowIri": s.row_iri}
                            for s in report.sources_of(r)],
            }
            for r in report.results
        ],
    }


def render_json(report: Report) -> str:
    return json.dumps(as_json(report), indent=2, ensure_ascii=False) + "\n"


def _turtle_literal(text: str) -> str:
    return json.dumps(text, ensure_ascii=False)


def _path_turtle(path: str) -> str | None:
    """A result path for the report: a predicate IRI or an inverse path; complex paths are
    written as text (cksh:resultPathText) instead."""
    if path.startswith("<") and path.endswith(">") and "|" not in path:
        return path
    if path.startswith("^<") and path.endswith(">") and "|" not in path:
        return f"[ <{SH}inversePath> {path[1:]} ]"
    return None


def render_turtle(report: Report, *, created: datetime | None = None) -> str:
    """The report as an sh:ValidationReport; each result also names its source rows
    (cksh:sourceRow, the csvw:Row resources of the store)."""
    created = created or datetime.now(timezone.utc).replace(microsecond=0)
    out = [
        f"@prefix sh: <{SH}> .",
        f"@prefix cksh: <{CKSH}> .",
        "@prefix xsd: <http://www.w3.org/2001/XMLSchema#> .",
        "@prefix dcterms: <http://purl.org/dc/terms/> .",
        "",
        "<https://w3id.org/carbonkg/id/validation/report> a sh:ValidationReport ;",
        f'    sh:conforms "{str(report.conforms).lower()}"^^xsd:boolean ;',
        f'    dcterms:created "{created.isoformat()}"^^xsd:dateTime ;',
        f"    cksh:engine {_turtle_literal(report.engine)} ;",
        f"    cksh:shapeSet {', '.join(_turtle_literal(s) for s in report.sets)}",
    ]
    for result in report.results:
        parts = [
            "a sh:ValidationResult",
            f"sh:focusNode {result.focus}",
            f"sh:resultSeverity <{result.severity}>",
            f"sh:sourceShape <{result.shape}>",
            f"sh:sourceConstraintComponent <{result.component}>",
            f"sh:resultMessage {_turtle_literal(result.message)}",
        ]
        if result.path:
            path = _path_turtle(result.path)
            parts.append(f"sh:resultPath {path}" if path else f"cksh:resultPathText {_turtle_literal(result.path)}")
        if result.value is not None:
            parts.append(f"sh:value {result.value}")
        rows = [f"<{s.row_iri}>" for s in report.sources_of(result)]
        if rows:
            parts.append("cksh:sourceRow " + ", ".join(rows))
        out[-1] += " ;"
        out.append("    sh:result [ " + " ;\n        ".join(parts) + " ]")
    out[-1] += " ."
    return "\n".join(out) + "\n"


def render(report: Report, fmt: str, *, limit: int | None = None) -> str:
    if fmt == "json":
        return render_json(report)
    if fmt == "turtle":
        return render_turtle(report)
    return render_text(report, limit=limit)
