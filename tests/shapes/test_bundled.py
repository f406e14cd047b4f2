"""The bundled registry exports validated: every result is a genuine finding in the registry data
(listed below with its reason), and the CLI reports them with exit codes 0/1/2.

Findings on data/registry-exports (fast path, all sets):

- CorsiaEligibleNeedsAuthorisation (Violation, 7): ART TREES blocks of vintage 2021/2022 flagged
  CORSIA eligible with no Article 6 authorisation stated anywhere in the exports
  (art-trees/cancellations.csv row 2, art-trees/issuances.csv).
- CreditBlock-quantityPositive (Warning, 25): Cercarbono batches listed with issued_quantity 0 in
  the project's serials (cercarbono/projects.csv rows 20, 22, 28, 31, 33).
- NoDoubleClaim (Warning, 5): ART TREES retirements whose reason is "Contribution Towards Corporate
  Climate Pledge AND Host Country NDC" (art-trees/retirements.csv rows 1-4 and 6).
- NoDoubleIssuance (Warning, 4): ACR1100/CAMM1100 and ACR1138/CAMM1138 issued vintage 2025 both on
  ACR and as ARB offsets, and no ACR cancellation for conversion of that vintage is in the sample
  (american-carbon-registry/issuances.csv rows 37, 39; arb/nc-arboc_issuance_sheet3.csv rows 11, 14).
- UnknownCountry (Warning, 1): Gold Standard project 23473 with country "International"
  (gold-standard/projects.csv row 25).
- UnknownReason (Warning, 1): the ARB reversal "Intentional Reversal", which no cancellation
  reason concept names (arb/nc-arboc_issuance_sheet3.csv row 30).
- RetiredCreditsIssuanceKnown (Info, 277): retirements and cancellations whose issuance is not in
  the sampled exports (ACR, CAR, Gold Standard, ART, Isometric, Cercarbono samples).

The agreement of the fast path with pySHACL on all of it is an opt-in test
(CARBONKG_SLOW_TESTS=1; about 20 minutes, pySHACL running one query per focus node).
"""

from __future__ import annotations

import json
import os
from collections import Counter
from pathlib import Path

import pytest

from carbonkg.cli import main
from carbonkg.shapes.model import CKSH
from carbonkg.shapes.validate import validate_store

REPO = Path(__file__).resolve().parents[2]
EXPORTS = REPO / "data" / "registry-exports"

EXPECTED = {
    ("CorsiaEligibleNeedsAuthorisation", "Violation"): 7,
    ("CreditBlock-quantityPositive", "Warning"): 25,
    ("NoDoubleClaim", "Warning"): 5,
    ("NoDoubleIssuance", "Warning"): 4,
    ("UnknownCountry", "Warning"): 1,
    ("UnknownReason", "Warning"): 1,
    ("RetiredCreditsIssuanceKnown", "Info"): 277,
}


@pytest.fixture(scope="module")
def store_path(tmp_path_factory) -> Path:
    path = tmp_path_factory.mktemp("bundled") / "store"
    assert main(["load", str(EXPORTS), "--store", str(path), "--quiet"]) == 0
    return path


@pytest.fixture(scope="module")
def report(store_path):
    from carbonkg.store import EmbeddedStore

    store = EmbeddedStore(store_path, read_only=True)
    return validate_store(store)


def test_findings_are_the_known_ones(report) -> None:
    counts = Counter((r.shape.removeprefix(CKSH), r.severity_name) for r in report.results)
    assert dict(counts) == EXPECTED


def test_every_finding_names_its_source_rows(report) -> None:
    for result in report.results:
        sources = report.sources_of(result)
        assert sources, f"no source row for {result}"
        assert all(s.file.endswith(".csv") and s.row >= 1 for s in sources)


def test_cli_exit_codes_and_formats(store_path, capsys) -> None:
    assert main(["validate", "--store", str(store_path), "--shapes", "labels", "--format", "json"]) == 1
    out = json.loads(capsys.readouterr().out)
    assert out["conforms"] is False and out["counts"]["Violation"] == 7
    assert all(r["sources"] for r in out["results"])
    assert main(["validate", "--store", str(store_path), "--shapes", "cross-registry", "--limit", "2"]) == 0
    assert "conforms" in capsys.readouterr().out
    assert main(["validate", "--store", str(store_path), "--shapes", "nonsense"]) == 2
    assert main(["validate", "--store", str(store_path / "missing")]) == 2
    with pytest.raises(SystemExit) as exit_info:
        main(["validate", "--format", "xml"])
    assert exit_info.value.code == 2


def test_report_stored_as_graph(store_path, capsys) -> None:
    import pyoxigraph as ox

    from carbonkg.store import EmbeddedStore

    assert main(["validate", "--store", str(store_path), "--shapes", "labels", "--save-report", "--format", "turtle"]) == 1
    turtle = capsys.readouterr().out
    assert "sh:ValidationReport" in turtle and "cksh:sourceRow" in turtle
    store = EmbeddedStore(store_path, read_only=True)
    graph = ox.NamedNode("https://w3id.org/carbonkg/graph/validation-report")
    count = sum(1 for _ in store.raw.quads_for_pattern(None, ox.NamedNode("http://www.w3.org/ns/shacl#result"), None, graph))
    assert count == 7
    # the stored report is not validated as data
    assert len(validate_store(store, sets=["labels"], with_sources=False).results) == 7


@pytest.mark.skipif(not os.environ.get("CARBONKG_SLOW_TESTS"), reason="pySHACL on all bundled exports takes minutes")
def test_fast_path_agrees_with_pyshacl_on_bundled_exports(store_path, report) -> None:
    from carbonkg.shapes.reference import validate_oxigraph
    from carbonkg.shapes.validate import Data, load_shapes
    from carbonkg.store import EmbeddedStore

    import pyoxigraph as ox

    data = Data.from_store(EmbeddedStore(store_path, read_only=True))
    copy = ox.Store()
    copy.bulk_load(data._dump(), ox.RdfFormat.N_TRIPLES)
    reference = validate_oxigraph(copy, load_shapes())
    assert {r.key for r in reference} == {r.key for r in report.results}
