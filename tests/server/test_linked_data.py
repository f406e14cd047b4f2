"""Linked data: every IRI carbonkg mints dereferences on the service (server/linked_data.py).

Over the 24 bundled exports, loaded by the loaders: for a sample of real entities of every kind
the HTML page shows the label, links to this server's pages and the source files and rows; the
Turtle, JSON-LD and N-Triples answers parse (with rdflib) and hold the entity's triples (as
SPARQL reads them); content negotiation, 404 and 303; a different public base; the ontology and
vocabularies; validation results from a stored report."""

from __future__ import annotations

import gc
import html
import re
from collections.abc import Iterator

import pyoxigraph as ox
import pytest
from fastapi.testclient import TestClient
from ld_helpers import CK, CSVW, EXPORTS, RDF_TYPE, essence, loaded_store, rdflib_graph, select, to_rdflib
from server_helpers import serve

from carbonkg import iris
from carbonkg.loaders.pipeline import load_paths
from carbonkg.store.embedded import EmbeddedStore

pytestmark = pytest.mark.filterwarnings("ignore::DeprecationWarning")  # rdflib's JSON-LD parser

SKOS = "http://www.w3.org/2004/02/skos/core#"
SH = "http://www.w3.org/ns/shacl#"
LABELS = (SKOS + "prefLabel", "http://www.w3.org/2000/01/rdf-schema#label", CK + "orgName",
          "http://purl.org/dc/terms/title", CK + "fileName")
#: a kind of entity -> its class (entities are sampled from the store)
KINDS = {
    "listing": CK + "ProjectListing",
    "block": CK + "CreditBlock",
    "issuance": CK + "Issuance",
    "retirement": CK + "Retirement",
    "label attestation": CK + "LabelAttestation",
    "link": CK + "CrossRegistryLink",
    "organisation": CK + "Organisation",
    "export": CK + "RegistryExport",
    "load run": CK + "LoadRun",
    "vocab concept": SKOS + "Concept",
}
RDF_ACCEPT = ("text/turtle", "application/ld+json", "application/n-triples")


@pytest.fixture(scope="module")
def client() -> Iterator[TestClient]:
    with serve(loaded_store(), load_static_graphs=True, query_workers=2) as client:
        yield client


def local(iri: str) -> str:
    assert iri.startswith(iris.BASE), iri
    return "/" + iri[len(iris.BASE):]


def page(client: TestClient, iri: str, **headers: str):
    response = client.get(local(iri).split("#")[0], headers={"Accept": "text/html", **headers})
    assert response.status_code == 200, response.text
    assert essence(response.headers["content-type"]) == "text/html"
    return response


def href(path: str) -> str:
    return f'href="{html.escape(path, quote=True)}"'


def samples(client: TestClient, cls: str) -> list[str]:
    where = f"?s a <{cls}>"
    if cls == SKOS + "Concept":
        where += f' FILTER STRSTARTS(STR(?s), "{iris.VOCAB_BASE}")'
    found = [r["s"].value for r in select(client, f"SELECT DISTINCT ?s WHERE {{ {where} }} ORDER BY ?s")]
    assert found, f"no {cls} in the store"
    return sorted({found[0], found[len(found) // 2], found[-1]})


def expected_label(client: TestClient, iri: str) -> str | None:
    values = " ".join(f"<{p}>" for p in LABELS)
    rows = select(client, f"SELECT ?p ?l WHERE {{ VALUES ?p {{ {values} }} <{iri}> ?p ?l }}")
    rank = {p: n for n, p in enumerate(LABELS)}
    rows.sort(key=lambda r: (rank[r["p"].value], r["l"].language not in (None, "en"), r["l"].value))
    return rows[0]["l"].value if rows else None


def outgoing(client: TestClient, iri: str) -> list[tuple]:
    return [(r["p"], r["o"]) for r in select(client, f"SELECT DISTINCT ?p ?o WHERE {{ <{iri}> ?p ?o }}")]


# -- pages of every kind ------------------------------------------------------------------------


@pytest.mark.parametrize("kind", list(KINDS))
def test_pages_show_label_links_and_sources(client: TestClient, kind: str) -> None:
    for iri in samples(client, KINDS[kind]):
        body = page(client, iri).text
        # the label, or a readable name for an unlabelled entity, is the heading
        label = expected_label(client, iri)
        heading = re.search(r"<h1>(.*?)</h1>", body, re.S).group(1)
        if label is not None:
            assert html.unescape(heading) == label, (iri, heading)
        else:
            assert html.unescape(heading).strip(), iri
        assert html.escape(iri) in body
        # every type and every carbonkg IRI value links to its page on this server
        for p, o in outgoing(client, iri):
            if p.value == f"{CSVW}row":
                continue  # an export's rows are listed in their own table
            if isinstance(o, ox.NamedNode) and o.value.startswith(iris.BASE):
                assert href(local(o.value)) in body, (iri, p, o)
            elif isinstance(o, ox.Literal) and p.value != CK + "rawRecord":
                assert html.escape(o.value) in body, (iri, p, o)
        assert 'href="https://w3id.org/carbonkg/' not in body
        # the rows that describe it: file and a link to the row on its export's page
        rows = select(client, f"SELECT ?row ?file ?n WHERE {{ ?row <{CSVW}describes> <{iri}> ; <{CSVW}rownum> ?n . "
                              f"?export <{CSVW}row> ?row ; <{CK}fileName> ?file }}")
        if kind in ("listing", "block", "issuance", "retirement", "label attestation"):
            assert rows, f"{iri} should come from a row"
        for row in rows[:50]:
            assert href(local(row["row"].value)) in body, (iri, row)
            assert html.escape(row["file"].value) in body
        if not rows and iri.startswith(iris.ID_BASE) and kind not in ("export", "load run"):
            # named by records that rows describe: those rows
            via = select(client, f"SELECT ?row ?file WHERE {{ ?via ?p <{iri}> . ?row <{CSVW}describes> ?via . "
                                 f"?export <{CSVW}row> ?row ; <{CK}fileName> ?file }} LIMIT 1")
            assert via and 'id="one-hop"' in body, iri
            assert html.escape(via[0]["file"].value) in body
        elif not rows:
            assert "No row of a registry export describes" in body
        assert "Not validated" in body  # this store holds no validation report


@pytest.mark.parametrize("kind", list(KINDS))
def test_rdf_answers_parse_and_hold_the_entity_triples(client: TestClient, kind: str) -> None:
    for iri in samples(client, KINDS[kind]):
        expected = outgoing(client, iri)
        assert expected
        for accept in RDF_ACCEPT:
            response = client.get(local(iri), headers={"Accept": accept})
            assert response.status_code == 200, response.text
            assert essence(response.headers["content-type"]) == accept
            assert response.headers["vary"] == "Accept"
            graph = rdflib_graph(response)
            subject = to_rdflib(ox.NamedNode(iri))
            for p, o in expected:
                assert (subject, to_rdflib(p), to_rdflib(o)) in graph, (iri, accept, p, o)


def test_rows_are_hash_iris_of_their_export(client: TestClient) -> None:
    rows = select(client, f"SELECT ?row ?export ?n ?raw WHERE {{ ?export <{CSVW}row> ?row . ?row <{CSVW}rownum> ?n ; "
                          f"<{CK}rawRecord> ?raw }} ORDER BY ?row LIMIT 3")
    for row in rows:
        iri, export, n = row["row"].value, row["export"].value, int(row["n"].value)
        assert iri == f"{export}#row={n}"
        offset = (n - 1) // 100 * 100
        body = client.get(local(export), params={"rows": offset}, headers={"Accept": "text/html"}).text
        assert f'id="row={n}"' in body
        first_field = next(iter(__import__("json").loads(row["raw"].value).items()))
        assert html.escape(first_field[0]) in body
        graph = rdflib_graph(client.get(local(export), headers={"Accept": "text/turtle"}))
        for p, o in outgoing(client, iri):
            assert (to_rdflib(ox.NamedNode(iri)), to_rdflib(p), to_rdflib(o)) in graph


def test_an_export_page_lists_its_rows_in_pages(client: TestClient) -> None:
    export = iris.export("verra", "transactions.csv")
    (row,) = select(client, f"SELECT (COUNT(?r) AS ?n) WHERE {{ <{export}> <{CSVW}row> ?r }}")
    total = int(row["n"].value)
    assert total == 134
    first = client.get(local(export), headers={"Accept": "text/html"}).text
    assert "Rows (134)" in first
    assert 'id="row=1"' in first and 'id="row=100"' in first and 'id="row=101"' not in first
    assert href("?rows=100#rows") in first
    second = client.get(local(export), params={"rows": 100}, headers={"Accept": "text/html"}).text
    assert 'id="row=101"' in second and 'id="row=134"' in second and 'id="row=1"' not in second
    assert client.get(local(export), params={"rows": "x"}).status_code == 400


def test_incoming_links_are_shown(client: TestClient) -> None:
    (row,) = select(client, f"SELECT ?block ?listing WHERE {{ ?block <{CK}blockOf> ?listing }} ORDER BY ?block LIMIT 1")
    body = page(client, row["listing"].value).text
    assert href(local(row["block"].value)) in body
    assert href("/ontology#blockOf") in body


def test_vocabulary_pages(client: TestClient) -> None:
    body = page(client, iris.registry("verra")).text
    assert "Verra" in body
    assert href("/vocab/registry") in body  # skos:inScheme
    scheme = page(client, iris.VOCAB_BASE + "registry").text
    assert "carbonkg registries" in scheme
    assert href("/vocab/registry/verra") in scheme  # a concept of the scheme (incoming skos:inScheme)
    index = client.get("/vocab", headers={"Accept": "text/html"})
    assert index.status_code == 200 and href("/vocab/registry") in index.text
    graph = rdflib_graph(client.get("/vocab", headers={"Accept": "text/turtle"}))
    assert len(graph) > 10
    concept = rdflib_graph(client.get("/vocab/registry/verra", headers={"Accept": "application/n-triples"}))
    assert any("Verra" in str(o) for o in concept.objects())


def test_the_ontology(client: TestClient) -> None:
    response = client.get("/ontology", headers={"Accept": "text/html"})
    assert response.status_code == 200
    body = response.text
    for term in ("CreditBlock", "ProjectListing", "recordedIn", "blockOf", "LabelAttestation"):
        assert f'id="{term}"' in body, term  # /ontology#Term lands on the term
    assert 'href="https://w3id.org/carbonkg/' not in body  # links into carbonkg stay on this server
    assert not re.search(r'<(script|link)[^>]+(src|href)="https?://', body)  # nothing loaded from elsewhere
    for accept in ("text/turtle", "application/ld+json", "application/n-triples"):
        graph = rdflib_graph(client.get("/ontology", headers={"Accept": accept}))
        import rdflib

        assert (rdflib.URIRef(CK + "CreditBlock"), rdflib.RDF.type, rdflib.OWL.Class) in graph, accept


def test_pages_load_nothing_from_elsewhere(client: TestClient) -> None:
    for path in (local(iris.project_listing("verra", "3005")), "/vocab", "/void", "/catalog"):
        body = client.get(path, headers={"Accept": "text/html"}).text
        assert not re.search(r'<(script|link|img)[^>]+(src|href)="https?://', body), path


# -- content negotiation --------------------------------------------------------------------------

BROWSER = "text/html,application/xhtml+xml,application/xml;q=0.9,image/avif,image/webp,*/*;q=0.8"
CONNEG = [
    # (Accept, format parameter, expected media type or status)
    (None, None, "text/html"),
    ("", None, "text/html"),
    ("*/*", None, "text/html"),
    (BROWSER, None, "text/html"),
    ("text/html", None, "text/html"),
    ("application/xhtml+xml", None, "text/html"),
    ("text/turtle", None, "text/turtle"),
    ("application/x-turtle", None, "text/turtle"),
    ("application/ld+json", None, "application/ld+json"),
    ("application/json", None, "application/ld+json"),
    ("application/n-triples", None, "application/n-triples"),
    ("text/plain", None, "application/n-triples"),
    ("application/rdf+xml", None, "application/rdf+xml"),
    ("text/turtle;q=0.5, application/ld+json;q=0.9", None, "application/ld+json"),
    ("text/html;q=0.1, text/turtle", None, "text/turtle"),
    ("text/*", None, "text/html"),
    ("application/*", None, "application/ld+json"),
    ("text/html;q=0, */*;q=0.1", None, "text/turtle"),
    ("application/sparql-results+json", None, 406),
    ("image/png", None, 406),
    ("text/html;q=0", None, 406),
    ("text/html", "turtle", "text/turtle"),
    ("text/turtle", "html", "text/html"),
    (None, "ttl", "text/turtle"),
    (None, "jsonld", "application/ld+json"),
    (None, "nt", "application/n-triples"),
    (None, "application/n-triples", "application/n-triples"),
    (None, "rdfxml", "application/rdf+xml"),
    (None, "csv", 406),
    (None, "bogus", 400),
]


@pytest.mark.parametrize(("accept", "format_", "expected"), CONNEG)
def test_content_negotiation(client: TestClient, accept: str | None, format_: str | None, expected) -> None:
    headers = {} if accept is None else {"Accept": accept}
    params = {} if format_ is None else {"format": format_}
    for path in (local(iris.project_listing("verra", "3005")), "/vocab/registry/verra", "/ontology", "/vocab"):
        response = client.get(path, headers=headers, params=params)
        if isinstance(expected, int):
            assert response.status_code == expected, (path, response.text)
            assert essence(response.headers["content-type"]) == "application/problem+json"
            if expected == 406:
                assert "text/turtle" in response.json()["available"]
        else:
            assert response.status_code == 200, (path, response.text)
            assert essence(response.headers["content-type"]) == expected, path


def test_alternates_are_announced(client: TestClient) -> None:
    path = local(iris.project_listing("verra", "3005"))
    response = client.get(path, headers={"Accept": "text/html"})
    link = response.headers["link"]
    for fmt, media in (("turtle", "text/turtle"), ("jsonld", "application/ld+json"), ("ntriples", "application/n-triples")):
        assert f'<{path}?format={fmt}>; rel="alternate"; type="{media}"' in link
        assert f'<link rel="alternate" type="{media}" href="{path}?format={fmt}"' in response.text
    turtle = client.get(path, headers={"Accept": "text/turtle"})
    assert 'type="text/html"' in turtle.headers["link"]


def test_head(client: TestClient) -> None:
    path = local(iris.project_listing("verra", "3005"))
    for accept in ("text/html", "text/turtle"):
        get = client.get(path, headers={"Accept": accept})
        head = client.head(path, headers={"Accept": accept})
        assert head.status_code == 200 and head.content == b""
        assert head.headers["content-type"] == get.headers["content-type"]
        assert int(head.headers["content-length"]) == len(get.content)


# -- what is not there ---------------------------------------------------------------------------


@pytest.mark.parametrize("path", [
    "/id/verra/project/no-such-project",
    "/id/no-such-registry/thing/1",
    "/id/",
    "/vocab/registry/no-such-registry",
])
def test_unknown_iris_are_404_problems(client: TestClient, path: str) -> None:
    for accept in ("text/html", "text/turtle", "application/ld+json"):
        response = client.get(path, headers={"Accept": accept})
        assert response.status_code == 404, (path, accept)
        assert essence(response.headers["content-type"]) == "application/problem+json"
        body = response.json()
        assert body["type"] == "https://w3id.org/carbonkg/problems/not-found"
        assert body["iri"] == iris.BASE + path.lstrip("/")


def test_a_graph_name_is_303_to_the_graph_store(client: TestClient) -> None:
    export = iris.export("verra", "projects.csv")
    (row,) = select(client, f"SELECT ?g WHERE {{ GRAPH ?g {{ <{export}> a <{CK}RegistryExport> }} }}")
    graph = row["g"].value
    response = client.get(local(graph), headers={"Accept": "text/turtle"}, follow_redirects=False)
    assert response.status_code == 303
    assert response.headers["location"].startswith("/graph?graph=")
    followed = client.get(response.headers["location"], headers={"Accept": "text/turtle"})
    assert followed.status_code == 200 and len(rdflib_graph(followed)) > 100


def test_percent_encoded_iris(client: TestClient) -> None:
    """IRIs minted from identifiers with reserved characters keep their escapes (``%3A``); an
    escape in lower case names the same IRI."""
    rows = select(client, f'SELECT DISTINCT ?s WHERE {{ ?s a <{CK}Issuance> FILTER CONTAINS(STR(?s), "%3A") }} ORDER BY ?s LIMIT 1')
    assert rows
    iri = rows[0]["s"].value
    assert page(client, iri).status_code == 200
    lower = re.sub(r"%[0-9A-F]{2}", lambda m: m.group(0).lower(), local(iri))
    assert client.get(lower, headers={"Accept": "text/turtle"}).status_code == 200


# -- another public base ---------------------------------------------------------------------------


def test_a_different_public_base() -> None:
    """Published under another base, the service still serves the IRIs carbonkg mints by their
    paths, and every link on its pages leads to this server's paths."""
    with serve(loaded_store(), base_iri="http://testserver/", load_static_graphs=True) as other:
        listing = iris.project_listing("verra", "3005")
        response = other.get("/id/verra/project/3005", headers={"Accept": "text/html"})
        assert response.status_code == 200
        body = response.text
        assert html.escape(listing) in body
        links = re.findall(r'href="([^"]*)"', body)
        assert links
        carbonkg = [h for h in links if "carbonkg" in h or h.startswith("/")]
        assert all(h.startswith(("/", "?", "#")) for h in carbonkg), [h for h in carbonkg if not h.startswith(("/", "?", "#"))]
        for target in ("/vocab/registry/verra", "/ontology#recordedIn", "/id/verra/export/transactions.csv#row=2"):
            assert href(target) in body
        # the links work on this server
        for target in ("/vocab/registry/verra", "/ontology", "/id/verra/export/transactions.csv"):
            assert other.get(target, headers={"Accept": "text/html"}).status_code == 200
        # the problem type is under the public base
        assert other.get("/id/nope").json()["type"] == "http://testserver/problems/not-found"


# -- validation results -----------------------------------------------------------------------------

REPORT = """@prefix sh: <http://www.w3.org/ns/shacl#> .
@prefix ck: <https://w3id.org/carbonkg/ontology#> .
@prefix prov: <http://www.w3.org/ns/prov#> .
@prefix xsd: <http://www.w3.org/2001/XMLSchema#> .
<urn:carbonkg:test:report> a sh:ValidationReport ;
    sh:conforms false ;
    prov:generatedAtTime "2026-01-02T03:04:05Z"^^xsd:dateTime ;
    sh:result [
        a sh:ValidationResult ;
        sh:focusNode <{focus}> ;
        sh:resultSeverity sh:Violation ;
        sh:resultPath ck:hostCountry ;
        sh:resultMessage "a listing names the country that hosts it" ;
        sh:sourceShape <https://w3id.org/carbonkg/shapes#ListingShape>
    ], [
        a sh:ValidationResult ;
        sh:focusNode <{focus}> ;
        sh:resultSeverity sh:Warning ;
        sh:resultMessage "the methodology is not in the vocabulary" ;
        sh:value "ACM0010"
    ] .
"""


@pytest.fixture(scope="module")
def validated(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[TestClient, str, str]]:
    folder = tmp_path_factory.mktemp("validated")
    store = EmbeddedStore(folder / "store")
    results = list(load_paths(store, [EXPORTS / "verra" / "projects.csv"]))
    assert [r.status for r in results] == ["loaded"]
    listings = sorted(
        r["s"].value for r in store.query(f"SELECT ?s WHERE {{ ?s a <{CK}ProjectListing> }}")
    )
    focus, other = listings[0], listings[1]
    report = folder / "report.ttl"
    report.write_text(REPORT.replace("{focus}", focus), encoding="utf-8")
    store.put_static_graph("validation-report", [report])  # as `carbonkg validate` stores a report
    store.flush()
    del store
    gc.collect()
    with serve(folder / "store") as client:
        yield client, focus, other


def test_validation_results_are_shown(validated) -> None:
    client, focus, other = validated
    body = page(client, focus).text
    assert "Not validated" not in body
    assert 'class="sev-Violation">Violation' in body and 'class="sev-Warning">Warning' in body
    assert "a listing names the country that hosts it" in body
    assert "the methodology is not in the vocabulary" in body
    assert href("/ontology#hostCountry") in body
    assert body.index("sev-Violation") < body.index("sev-Warning")
    clean = page(client, other).text
    assert "No validation result about this resource" in clean and "2026-01-02T03:04:05Z" in clean


def test_types_link_to_the_ontology(client: TestClient) -> None:
    body = page(client, iris.project_listing("verra", "3005")).text
    assert href("/ontology#ProjectListing") in body
    assert RDF_TYPE not in re.findall(r'href="([^"]*)"', body)
