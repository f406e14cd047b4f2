"""The HTML documentation of the ontology (pyLODE), through the library and the CLI."""

from __future__ import annotations

import html
import logging
import re
from pathlib import Path

import pytest
from rdflib import OWL, RDF, RDFS, Graph, Literal, URIRef
from rdflib.namespace import SKOS

from carbonkg import cli
from carbonkg.ontology import docs
from carbonkg.ontology.resources import CK_NAMESPACE, ONTOLOGY_IRI, ontology_graph, vocabulary_paths

TITLE = "carbonkg ontology"


def owned_class_labels(graph: Graph) -> dict[str, str]:
    labels = {}
    for cls in graph.subjects(RDF.type, OWL.Class):
        if isinstance(cls, URIRef) and str(cls).startswith(CK_NAMESPACE):
            english = [label for label in graph.objects(cls, RDFS.label) if getattr(label, "language", None) == "en"]
            labels[str(cls)] = str(english[0]) if english else ""
    return labels


def class_heading(label: str) -> re.Pattern[str]:
    """pyLODE's heading of a class section: ``<h3>credit block <sup class="sup-c" ...>c</sup>``."""
    return re.compile(r"<h3>\s*" + re.escape(html.escape(label, quote=False)) + r'\s*<sup class="sup-c"')


def missing_from(page: str, labels: dict[str, str]) -> list[str]:
    """Classes that have no section headed by their label in the page."""
    return sorted(
        f"{iri} ({label!r})" for iri, label in labels.items() if not label or not class_heading(label).search(page)
    )


@pytest.fixture(scope="module")
def page() -> str:
    return docs.render_html()


def test_page_has_the_ontology_title(page: str) -> None:
    assert f"<title>{TITLE}</title>" in page
    assert TITLE in page


def test_page_shows_every_owned_class(page: str) -> None:
    labels = owned_class_labels(ontology_graph())
    assert len(labels) > 40
    missing = missing_from(page, labels)
    assert not missing, "classes missing from the documentation:\n" + "\n".join(missing)


def test_label_check_can_fail(page: str) -> None:
    labels = {
        CK_NAMESPACE + "Imaginary": "imaginary class nobody documented",
        CK_NAMESPACE + "NoLabel": "",
        # a phrase the page contains, but only in running text, not as a class heading
        CK_NAMESPACE + "Prose": "credit blocks and serial ranges",
    }
    assert "credit blocks and serial ranges" in page
    assert len(missing_from(page, labels)) == 3


def test_a_new_class_shows_up_in_the_page(monkeypatch: pytest.MonkeyPatch) -> None:
    graph = ontology_graph()
    new = URIRef(CK_NAMESPACE + "DocumentationProbe")
    graph.add((new, RDF.type, OWL.Class))
    graph.add((new, RDFS.label, Literal("documentation probe", lang="en")))
    graph.add((new, SKOS.definition, Literal("A class added by the test.", lang="en")))
    graph.add((new, RDFS.isDefinedBy, URIRef(ONTOLOGY_IRI)))
    monkeypatch.setattr(docs, "ontology_graph", lambda: graph)
    page = docs.render_html()
    assert not missing_from(page, owned_class_labels(graph))
    assert "documentation probe" in page


def test_render_logs_no_warnings(caplog: pytest.LogCaptureFixture) -> None:
    with caplog.at_level(logging.WARNING):
        docs.render_html()
    warnings = [record.getMessage() for record in caplog.records if record.levelno >= logging.WARNING]
    assert not warnings, warnings


def test_build_docs_writes_the_site(tmp_path: Path) -> None:
    out = tmp_path / "site"
    index = docs.build_docs(out)
    assert index == out / "index.html"
    assert TITLE in index.read_text(encoding="utf-8")
    assert len(Graph().parse(out / "carbonkg.ttl", format="turtle")) == len(ontology_graph())
    assert sorted(path.name for path in (out / "vocab").glob("*.ttl")) == sorted(p.name for p in vocabulary_paths())


def test_cli_docs_command(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    out = tmp_path / "cli-docs"
    assert cli.main(["docs", "--out", str(out)]) == 0
    assert (out / "index.html").is_file()
    assert "index.html" in capsys.readouterr().out
