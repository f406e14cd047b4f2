"""The loading pipeline on the real bundled exports: every file, every row, atomic and idempotent.

Synthetic files appear only where the real ones cannot show the case (a malformed or foreign
file, a changed export); each is built in tmp_path from a real file and says so.
"""

from __future__ import annotations

import csv
import shutil
from pathlib import Path

import pyoxigraph as ox
import pytest

from carbonkg import iris
from carbonkg.cli import main as cli_main
from carbonkg.loaders import TABLE_SPECS
from carbonkg.loaders.pipeline import detect_spec, iter_files, load_file, load_paths
from carbonkg.loaders.readers import open_table
from carbonkg.store import EmbeddedStore
from carbonkg.store.catalog import MERGED_GRAPH, is_marker

EXPORTS = Path(__file__).resolve().parents[2] / "data" / "registry-exports"
REAL_FILES = sorted(iter_files([EXPORTS]))
CSVW_ROW = "http://www.w3.org/ns/csvw#Row"


def data_rows(path: Path) -> int:
    table = open_table(path)
    with path.open(encoding=table.encoding, newline="") as handle:
        return sum(1 for record in csv.DictReader(handle) if any((v or "").strip() for v in record.values()))


def count(store: EmbeddedStore, sparql: str) -> int:
    return int(next(iter(store.query(sparql)))[0].value)


@pytest.fixture(scope="module")
def loaded() -> tuple[EmbeddedStore, dict[Path, object]]:
    store = EmbeddedStore(None)
    results = {r.path: r for r in load_paths(store, [EXPORTS])}
    return store, results


def test_every_bundled_file_is_found() -> None:
    assert len(REAL_FILES) == 24
    assert {p.parent.name for p in REAL_FILES} == set(iris.REGISTRIES[:8])


@pytest.mark.parametrize("path", REAL_FILES, ids=lambda p: f"{p.parent.name}/{p.name}")
def test_every_file_loads_with_one_csvw_row_per_data_row(loaded, path: Path) -> None:
    store, results = loaded
    result = results[path]
    assert result.status == "loaded", [str(e) for e in result.errors]
    assert result.registry == path.parent.name
    assert result.rows == data_rows(path)
    export = iris.export(path.parent.name, path.name)
    rows = count(store, f"SELECT (COUNT(DISTINCT ?r) AS ?n) WHERE {{ <{export}> <http://www.w3.org/ns/csvw#row> ?r . ?r a <{CSVW_ROW}> }}")
    assert rows == result.rows
    # every row describes at least one entity, and every row number is there once
    nums = [int(s["n"].value) for s in store.query(
        f"SELECT ?n WHERE {{ <{export}> <http://www.w3.org/ns/csvw#row> ?r . ?r <http://www.w3.org/ns/csvw#rownum> ?n }} ORDER BY ?n")]
    assert nums == list(range(1, result.rows + 1))
    undescribing = count(store, f"""SELECT (COUNT(?r) AS ?n) WHERE {{ <{export}> <http://www.w3.org/ns/csvw#row> ?r .
        FILTER NOT EXISTS {{ ?r <http://www.w3.org/ns/csvw#describes> ?e }} }}""")
    assert undescribing == 0


@pytest.mark.parametrize("path", REAL_FILES, ids=lambda p: f"{p.parent.name}/{p.name}")
def test_registry_and_table_detected_from_header_alone(path: Path) -> None:
    spec = detect_spec(open_table(path))
    assert spec.registry == path.parent.name


def test_table_specs_have_unique_keys() -> None:
    keys = [s.key for s in TABLE_SPECS]
    assert len(keys) == len(set(keys))


def test_no_blank_nodes_and_provenance_of_each_file(loaded) -> None:
    store, results = loaded
    assert count(store, "SELECT (COUNT(*) AS ?n) WHERE { ?s ?p ?o FILTER(isBlank(?s) || isBlank(?o)) }") == 0
    for path, result in results.items():
        export = iris.export(result.registry, path.name)
        facts = {s["p"].value: s["o"] for s in store.query(f"SELECT ?p ?o WHERE {{ <{export}> ?p ?o }}")}
        assert facts["https://w3id.org/carbonkg/ontology#fileName"].value == path.name
        assert len(facts["https://w3id.org/carbonkg/ontology#sha256"].value) == 64
        assert int(facts["http://www.w3.org/ns/dcat#byteSize"].value) == path.stat().st_size
        assert facts["http://www.w3.org/ns/prov#wasGeneratedBy"].value.startswith(iris.ID_BASE + "load/")


def test_reloading_unchanged_files_is_skipped_and_changes_nothing(loaded) -> None:
    store, _ = loaded
    before = len(store)
    statuses = {r.status for r in load_paths(store, [EXPORTS])}
    assert statuses == {"skipped"}
    assert len(store) == before


def test_same_record_loaded_twice_gives_the_same_iris(tmp_path: Path) -> None:
    source = EXPORTS / "verra" / "transactions.csv"
    subjects = []
    for _ in range(2):
        store = EmbeddedStore(None)
        load_file(store, source)
        subjects.append({s["s"].value for s in store.query("SELECT DISTINCT ?s WHERE { ?s ?p ?o }")
                         if "/load/" not in s["s"].value})
    assert subjects[0] == subjects[1]


def _copy_real(tmp_path: Path, rel: str) -> Path:
    target = tmp_path / rel
    target.parent.mkdir(parents=True, exist_ok=True)
    shutil.copyfile(EXPORTS / rel, target)
    return target


def test_changed_file_replaces_its_own_graph_and_nothing_else(tmp_path: Path) -> None:
    # synthetic: the real Verra projects file with its last data row removed (a new export version)
    store = EmbeddedStore(tmp_path / "store")
    projects = _copy_real(tmp_path, "verra/projects.csv")
    transactions = _copy_real(tmp_path, "verra/transactions.csv")
    assert load_file(store, projects).status == "loaded"
    assert load_file(store, transactions).status == "loaded"
    tx_state = store.export_state(iris.export("verra", "transactions.csv"))
    lines = projects.read_bytes().splitlines(keepends=True)
    projects.write_bytes(b"".join(lines[:-1]))
    result = load_file(store, projects)
    assert result.status == "loaded" and result.rows == 33
    assert store.export_state(iris.export("verra", "transactions.csv")) == tx_state
    graphs = {g.value for g in store.raw.named_graphs() if not is_marker(g.value) and g.value != MERGED_GRAPH}
    assert len(graphs) == 2  # the old projects version is gone
    assert count(store, f"SELECT (COUNT(*) AS ?n) WHERE {{ ?r a <{CSVW_ROW}> }}") == 33 + 134


def test_rejected_file_leaves_the_store_unchanged(tmp_path: Path) -> None:
    # synthetic: a real Verra transactions file with one quantity broken
    store = EmbeddedStore(tmp_path / "store")
    good = _copy_real(tmp_path, "verra/transactions.csv")
    assert load_file(store, good).status == "loaded"
    before = sorted(str(q) for q in store.raw)
    text = good.read_text(encoding="utf-8")
    good.write_text(text.replace(",425,", ",4x5,", 1), encoding="utf-8")
    result = load_file(store, good)
    assert result.status == "rejected"
    assert [str(e) for e in result.errors] == [
        f"{good}, row 1, column 'Quantity Issued': '4x5' is not a number"
    ]
    assert sorted(str(q) for q in store.raw) == before


def test_interrupted_load_is_invisible_and_collected(tmp_path: Path) -> None:
    store = EmbeddedStore(tmp_path / "store")
    load_file(store, EXPORTS / "verra" / "projects.csv")
    before = len(store)
    # simulate a crash in the middle of a bulk load: a version graph nothing points at
    orphan = ox.NamedNode(iris.export("verra", "transactions.csv") + "/graph/deadbeef-00000000")
    store.raw.add(ox.Quad(ox.NamedNode("https://example.org/s"), ox.NamedNode("https://example.org/p"), ox.Literal("x"), orphan))
    assert len(store) == before
    assert count(store, "SELECT (COUNT(*) AS ?n) WHERE { ?s <https://example.org/p> ?o }") == 0
    del store
    reopened = EmbeddedStore(tmp_path / "store")
    assert orphan not in set(reopened.raw.named_graphs())
    assert len(reopened) == before


def test_a_file_of_no_known_registry_is_rejected_with_a_clear_reason(tmp_path: Path) -> None:
    # synthetic: a CSV whose header no registry uses
    path = tmp_path / "unknown.csv"
    path.write_text("a,b\n1,2\n", encoding="utf-8")
    result = load_file(EmbeddedStore(None), path)
    assert result.status == "rejected"
    assert "matches no known registry export" in str(result.errors[0])
    assert str(result.errors[0]).startswith(str(path))


def test_missing_required_column_names_expected_and_found(tmp_path: Path) -> None:
    # synthetic: the real Verra transactions file without its "Serial Number" column
    source = EXPORTS / "verra" / "transactions.csv"
    with source.open(encoding="utf-8", newline="") as handle:
        records = list(csv.reader(handle))
    drop = records[0].index("Serial Number")
    path = tmp_path / "transactions.csv"
    with path.open("w", encoding="utf-8", newline="") as handle:
        csv.writer(handle).writerows([r[:drop] + r[drop + 1:] for r in records])
    result = load_file(EmbeddedStore(None), path, registry="verra", kind="transactions")
    assert result.status == "rejected"
    message = str(result.errors[0])
    assert "missing required column 'Serial Number'" in message and "found: 'Issuance Date'" in message


def test_cli_load_exit_codes_and_summary(tmp_path: Path, capsys) -> None:
    store = tmp_path / "store"
    assert cli_main(["load", str(EXPORTS / "verra"), "--store", str(store), "--quiet"]) == 0
    out = capsys.readouterr().out
    assert "2 of 2 files loaded or unchanged, 0 rejected" in out
    bad = tmp_path / "bad" / "transactions.csv"
    bad.parent.mkdir()
    bad.write_text((EXPORTS / "verra" / "transactions.csv").read_text(encoding="utf-8").replace("2026-04-03", "2026-13-03", 1), encoding="utf-8")
    assert cli_main(["load", str(bad.parent), str(EXPORTS / "verra" / "projects.csv"), "--store", str(store), "--quiet"]) == 1
    out = capsys.readouterr().out
    assert "rejected" in out and "row 1, column 'Issuance Date'" in out
    assert cli_main(["load", str(tmp_path / "nothing-here"), "--store", str(store)]) == 2
    with pytest.raises(SystemExit) as exit_info:
        cli_main(["load"])
    assert exit_info.value.code == 2
