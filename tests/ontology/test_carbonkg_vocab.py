"""The hand-authored carbonkg SKOS concept schemes in ontology/vocab/carbonkg-*.ttl.

Checks, for every scheme file: it parses; the scheme and its concepts carry the required
annotations; labels are unique where loaders need them to be; every CAD Trust crosswalk target is a
real picklist value; and every raw value found in the real registry exports (data/registry-exports)
for the status / type / reason / label columns is mapped to a concept of the right scheme.
"""

from __future__ import annotations

import ast
import csv
import json
import re
from collections import Counter, defaultdict
from collections.abc import Callable, Iterator
from pathlib import Path

import pyoxigraph
import pytest
from rdflib import Graph, Literal, Namespace, URIRef
from rdflib.namespace import DCTERMS, RDF, RDFS, SKOS

ROOT = Path(__file__).resolve().parents[2]
VOCAB_DIR = ROOT / "ontology" / "vocab"
EXPORTS = ROOT / "data" / "registry-exports"
REFERENCE_DIR = ROOT / "ontology" / "reference"

CK = Namespace("https://w3id.org/carbonkg/ontology#")
VOCAB = "https://w3id.org/carbonkg/vocab/"
ONTOLOGY = URIRef("https://w3id.org/carbonkg/ontology")
CC_BY = URIRef("https://creativecommons.org/licenses/by/4.0/")
SLUG_RE = re.compile(r"^[a-z0-9]+(?:-[a-z0-9]+)*$")
MAPPING_PROPERTIES = (SKOS.exactMatch, SKOS.closeMatch, SKOS.broadMatch, SKOS.narrowMatch, SKOS.relatedMatch)

FILES = sorted(VOCAB_DIR.glob("carbonkg-*.ttl"))
FILE_IDS = [p.name for p in FILES]

# Every scheme the vocabulary brief asks for must exist as a file.
REQUIRED_SCHEMES = (
    "registry", "programme", "event-type", "unit-type", "unit-kind", "unit-status", "project-status",
    "label-type", "label-scope", "retirement-reason", "cancellation-reason", "project-type", "sector",
    "role", "table-kind", "compliance-period", "article6-purpose", "article6-action-type",
    "first-transfer-definition", "link-method",
)


def slug(text: str) -> str:
    """The CAD Trust IRI slug rule (same as carbonkg.ontology.slugs.slug)."""
    return re.sub(r"[^a-z0-9]+", "-", text.lower()).strip("-")


def scheme_name(path: Path) -> str:
    return path.stem.removeprefix("carbonkg-")


def scheme_iri(name: str) -> URIRef:
    return URIRef(VOCAB + name)


@pytest.fixture(scope="module")
def graphs() -> dict[str, Graph]:
    return {scheme_name(p): Graph().parse(p, format="turtle") for p in FILES}


def concepts(g: Graph) -> list[URIRef]:
    return sorted(s for s in g.subjects(RDF.type, SKOS.Concept) if isinstance(s, URIRef))


def english(g: Graph, s: URIRef, p: URIRef) -> list[Literal]:
    return [o for o in g.objects(s, p) if isinstance(o, Literal) and o.language == "en"]


def lookup_strings(g: Graph) -> dict[str, set[URIRef]]:
    """Raw string -> concepts that carry it as hiddenLabel, prefLabel, altLabel or notation."""
    out: dict[str, set[URIRef]] = defaultdict(set)
    for c in concepts(g):
        for p in (SKOS.hiddenLabel, SKOS.prefLabel, SKOS.altLabel, SKOS.notation):
            for o in g.objects(c, p):
                out[str(o)].add(c)
    return out


# ---------------------------------------------------------------------------------------------
# Files and schemes
# ---------------------------------------------------------------------------------------------


def test_all_required_schemes_exist() -> None:
    present = {scheme_name(p) for p in FILES}
    assert set(REQUIRED_SCHEMES) <= present, sorted(set(REQUIRED_SCHEMES) - present)


@pytest.mark.parametrize("path", FILES, ids=FILE_IDS)
def test_file_parses_with_rdflib_and_pyoxigraph(path: Path) -> None:
    g = Graph().parse(path, format="turtle")
    quads = list(pyoxigraph.parse(path=str(path), format=pyoxigraph.RdfFormat.TURTLE))
    assert len(g) > 0
    assert len(quads) == len(g)


@pytest.mark.parametrize("path", FILES, ids=FILE_IDS)
def test_scheme_metadata(graphs: dict[str, Graph], path: Path) -> None:
    name = scheme_name(path)
    g = graphs[name]
    schemes = set(g.subjects(RDF.type, SKOS.ConceptScheme))
    assert schemes == {scheme_iri(name)}, f"{path.name} must declare exactly the scheme {VOCAB}{name}"
    s = scheme_iri(name)
    assert len(english(g, s, SKOS.prefLabel)) == 1
    assert len(english(g, s, SKOS.definition)) == 1
    assert (s, DCTERMS.license, CC_BY) in g
    assert (s, RDFS.isDefinedBy, ONTOLOGY) in g


# ---------------------------------------------------------------------------------------------
# Concepts
# ---------------------------------------------------------------------------------------------


@pytest.mark.parametrize("path", FILES, ids=FILE_IDS)
def test_concepts_are_well_formed(graphs: dict[str, Graph], path: Path) -> None:
    name = scheme_name(path)
    g = graphs[name]
    scheme = scheme_iri(name)
    found = concepts(g)
    assert found, f"{path.name} has no concepts"
    problems: list[str] = []
    for c in found:
        local = str(c).removeprefix(str(scheme) + "/")
        if local == str(c) or not SLUG_RE.match(local):
            problems.append(f"{c}: IRI is not {scheme}/<lower-case-kebab-slug>")
        pref = list(g.objects(c, SKOS.prefLabel))
        if len(pref) != 1 or len(english(g, c, SKOS.prefLabel)) != 1:
            problems.append(f"{c}: needs exactly one skos:prefLabel, in @en")
        defs = list(g.objects(c, SKOS.definition))
        if len(defs) != 1 or len(english(g, c, SKOS.definition)) != 1:
            problems.append(f"{c}: needs exactly one skos:definition, in @en")
        if set(g.objects(c, SKOS.inScheme)) != {scheme}:
            problems.append(f"{c}: skos:inScheme must be exactly {scheme}")
        top = set(g.objects(c, SKOS.topConceptOf))
        broader = set(g.objects(c, SKOS.broader))
        if bool(top) == bool(broader):
            problems.append(f"{c}: needs skos:topConceptOf or skos:broader (exactly one of them)")
        if top and top != {scheme}:
            problems.append(f"{c}: skos:topConceptOf must be {scheme}")
        for b in broader:
            if (b, RDF.type, SKOS.Concept) not in g:
                problems.append(f"{c}: skos:broader {b} is not a concept of this scheme")
        for p in (SKOS.prefLabel, SKOS.definition, SKOS.hiddenLabel, SKOS.notation):
            for o in g.objects(c, p):
                if str(o) != str(o).strip() or not str(o):
                    problems.append(f"{c}: {p} {o!r} is empty or has surrounding whitespace")
    assert not problems, "\n".join(problems)


@pytest.mark.parametrize("path", FILES, ids=FILE_IDS)
def test_broader_hierarchy_has_no_cycles(graphs: dict[str, Graph], path: Path) -> None:
    g = graphs[scheme_name(path)]
    for c in concepts(g):
        seen = {c}
        frontier = set(g.objects(c, SKOS.broader))
        while frontier:
            assert not (frontier & seen), f"cycle through {c}"
            seen |= frontier
            frontier = {b for f in frontier for b in g.objects(f, SKOS.broader)}


@pytest.mark.parametrize("path", FILES, ids=FILE_IDS)
def test_preflabels_are_unique_within_scheme(graphs: dict[str, Graph], path: Path) -> None:
    g = graphs[scheme_name(path)]
    counts = Counter(str(o) for c in concepts(g) for o in g.objects(c, SKOS.prefLabel))
    assert not [label for label, n in counts.items() if n > 1]


@pytest.mark.parametrize("path", FILES, ids=FILE_IDS)
def test_hidden_labels_are_plain_and_map_to_one_concept(graphs: dict[str, Graph], path: Path) -> None:
    g = graphs[scheme_name(path)]
    owners: dict[str, set[URIRef]] = defaultdict(set)
    for c in concepts(g):
        for o in g.objects(c, SKOS.hiddenLabel):
            assert isinstance(o, Literal) and o.language is None and o.datatype is None, (
                f"{c}: hidden label {o!r} must be a plain string without language tag"
            )
            owners[str(o)].add(c)
    clashes = {label: sorted(map(str, cs)) for label, cs in owners.items() if len(cs) > 1}
    assert not clashes, f"raw values mapped to more than one concept: {clashes}"


@pytest.mark.parametrize("path", FILES, ids=FILE_IDS)
def test_notations_are_unique_within_scheme(graphs: dict[str, Graph], path: Path) -> None:
    g = graphs[scheme_name(path)]
    counts = Counter(str(o) for c in concepts(g) for o in g.objects(c, SKOS.notation))
    assert not [n for n, k in counts.items() if k > 1]


def test_concept_iris_are_unique_across_schemes(graphs: dict[str, Graph]) -> None:
    where: dict[URIRef, list[str]] = defaultdict(list)
    for name, g in graphs.items():
        for c in concepts(g):
            where[c].append(name)
    assert not {str(c): ns for c, ns in where.items() if len(ns) > 1}


# ---------------------------------------------------------------------------------------------
# Registry and programme individuals
# ---------------------------------------------------------------------------------------------

REGISTRY_PREFIXES = {  # data folder name -> OffsetsDB project-id prefix
    "verra": "VCS",
    "gold-standard": "GLD",
    "american-carbon-registry": "ACR",
    "climate-action-reserve": "CAR",
    "art-trees": "ART",
    "isometric": "ISO",
    "cercarbono": "CCB",
    "arb": "ARB",
}


def test_registry_concepts(graphs: dict[str, Graph]) -> None:
    g = graphs["registry"]
    for c in concepts(g):
        assert (c, RDF.type, CK.Registry) in g, f"{c} must also be a ck:Registry"
    for folder, prefix in REGISTRY_PREFIXES.items():
        c = URIRef(f"{VOCAB}registry/{folder}")
        assert (c, RDF.type, SKOS.Concept) in g, f"missing registry concept {folder}"
        assert {str(n) for n in g.objects(c, SKOS.notation)} == {prefix}
    for slug_ in ("cdm", "washington-ecology", "a6-4-mechanism", "cadt"):
        assert (URIRef(f"{VOCAB}registry/{slug_}"), RDF.type, SKOS.Concept) in g
    # every export folder has a registry concept
    folders = {p.name for p in EXPORTS.iterdir() if p.is_dir()}
    assert folders <= {str(c).rsplit("/", 1)[1] for c in concepts(g)}


def test_programme_concepts(graphs: dict[str, Graph]) -> None:
    g = graphs["programme"]
    for c in concepts(g):
        assert (c, RDF.type, CK.CreditingProgramme) in g, f"{c} must also be a ck:CreditingProgramme"


# ---------------------------------------------------------------------------------------------
# CAD Trust crosswalk
# ---------------------------------------------------------------------------------------------


def _picklists(version: str) -> dict[str, list[str]]:
    path = REFERENCE_DIR / f"cadtrust-{version}-picklists.json"
    return json.loads(path.read_text(encoding="utf-8"))


@pytest.fixture(scope="module")
def cadt_slugs() -> dict[str, dict[str, set[str]]]:
    out: dict[str, dict[str, set[str]]] = {}
    for version in ("v1", "v2"):
        lists = _picklists(version)
        out[version] = {
            key: {slug(v) for v in values} for key, values in lists.items() if isinstance(values, list)
        }
    return out


def _cadt_targets(g: Graph) -> Iterator[tuple[URIRef, URIRef, URIRef]]:
    for p in MAPPING_PROPERTIES:
        for s, o in g.subject_objects(p):
            if str(o).startswith(VOCAB + "cadt-"):
                yield s, p, o


@pytest.mark.parametrize("path", FILES, ids=FILE_IDS)
def test_cadt_targets_are_real_picklist_values(
    graphs: dict[str, Graph], cadt_slugs: dict[str, dict[str, set[str]]], path: Path
) -> None:
    g = graphs[scheme_name(path)]
    bad: list[str] = []
    for s, _, o in _cadt_targets(g):
        m = re.fullmatch(re.escape(VOCAB) + r"cadt-(v1|v2)/([A-Za-z0-9]+)/([a-z0-9-]+)", str(o))
        if not m:
            bad.append(f"{s} -> {o}: not a cadt-v1/v2 <listName>/<slug> IRI")
            continue
        version, list_name, value_slug = m.groups()
        if list_name not in cadt_slugs[version]:
            bad.append(f"{s} -> {o}: no list {list_name!r} in CAD Trust {version}")
        elif value_slug not in cadt_slugs[version][list_name]:
            bad.append(f"{s} -> {o}: no value with slug {value_slug!r} in {version} {list_name}")
    assert not bad, "\n".join(bad)


def test_cadt_targets_exist_in_generated_cadt_vocabularies(graphs: dict[str, Graph]) -> None:
    """Where the generated cadt-v1/-v2 files are present, the targets are concepts in them."""
    present = {v: VOCAB_DIR / f"cadt-{v}.ttl" for v in ("v1", "v2") if (VOCAB_DIR / f"cadt-{v}.ttl").exists()}
    if not present:
        pytest.skip("generated cadt vocabularies not present")
    known: set[URIRef] = set()
    for path in present.values():
        known |= set(Graph().parse(path, format="turtle").subjects(RDF.type, SKOS.Concept))
    missing = [
        f"{s} -> {o}"
        for g in graphs.values()
        for s, _, o in _cadt_targets(g)
        if str(o).split("/")[5].removeprefix("cadt-") in present and o not in known
    ]
    checked = sum(1 for g in graphs.values() for _ in _cadt_targets(g))
    assert checked > 0
    assert not missing, "\n".join(missing)


# ---------------------------------------------------------------------------------------------
# Coverage of raw values in the real exports
# ---------------------------------------------------------------------------------------------


def _plain(value: str) -> list[str]:
    return [value.strip()] if value.strip() else []


def _split(sep: str) -> Callable[[str], list[str]]:
    def split(value: str) -> list[str]:
        return [part.strip() for part in value.split(sep) if part.strip()]

    return split


def _py_list(value: str) -> list[str]:
    """Isometric `purposes`: a Python-literal list of strings."""
    if not value.strip():
        return []
    return [str(v).strip() for v in ast.literal_eval(value) if str(v).strip()]


def _py_dicts(key: str) -> Callable[[str], list[str]]:
    """Cercarbono cells: a Python-literal list of dicts; take one key of each."""

    def get(value: str) -> list[str]:
        if not value.strip():
            return []
        return [str(d[key]).strip() for d in ast.literal_eval(value) if str(d.get(key, "")).strip()]

    return get


# (registry folder, file, column, splitter, scheme). Every status / type / reason / label /
# eligibility column of the real exports; free-text columns are listed in NOT_MAPPED below.
COVERAGE = [
    ("verra", "projects.csv", "Status", _plain, "project-status"),
    ("verra", "projects.csv", "AFOLU Activities", _split(";"), "project-type"),
    ("verra", "projects.csv", "Project Type", _split(";"), "sector"),
    ("verra", "transactions.csv", "Project Type", _split(";"), "sector"),
    ("verra", "transactions.csv", "Retirement Reason", _plain, "retirement-reason"),
    ("verra", "transactions.csv", "Additional Certifications", _split(";"), "label-type"),
    ("gold-standard", "projects.csv", "Status", _plain, "project-status"),
    ("gold-standard", "projects.csv", "Project Type", _plain, "project-type"),
    ("gold-standard", "issuances.csv", "Credit Status", _plain, "unit-status"),
    ("gold-standard", "issuances.csv", "Product Type", _plain, "unit-kind"),
    ("gold-standard", "issuances.csv", "Project Type", _plain, "project-type"),
    ("gold-standard", "issuances.csv", "Label", _split(","), "label-type"),
    ("gold-standard", "retirements.csv", "Credit Status", _plain, "unit-status"),
    ("gold-standard", "retirements.csv", "Product Type", _plain, "unit-kind"),
    ("gold-standard", "retirements.csv", "Project Type", _plain, "project-type"),
    ("gold-standard", "retirements.csv", "Label", _split(","), "label-type"),
    ("gold-standard", "retirements.csv", "Use Case", _plain, "retirement-reason"),
    ("american-carbon-registry", "projects.csv", "Voluntary Status", _plain, "project-status"),
    ("american-carbon-registry", "projects.csv", "Compliance Program Status (ARB or Ecology)", _plain, "project-status"),
    ("american-carbon-registry", "projects.csv", "Project Type", _plain, "project-type"),
    ("american-carbon-registry", "issuances.csv", "Project Type", _plain, "project-type"),
    ("american-carbon-registry", "retirements.csv", "Retirement Reason", _plain, "retirement-reason"),
    ("american-carbon-registry", "retirements.csv", "Project Type", _plain, "project-type"),
    ("american-carbon-registry", "cancellations.csv", "Cancellation Type", _plain, "cancellation-reason"),
    ("american-carbon-registry", "cancellations.csv", "Project Type", _plain, "project-type"),
    ("climate-action-reserve", "projects.csv", "Status", _plain, "project-status"),
    ("climate-action-reserve", "projects.csv", "Compliance Program Status", _plain, "project-status"),
    ("climate-action-reserve", "projects.csv", "ARB Project Status", _plain, "project-status"),
    ("climate-action-reserve", "projects.csv", "WA ECO Project Status", _plain, "project-status"),
    ("climate-action-reserve", "projects.csv", "Project Type", _plain, "project-type"),
    ("climate-action-reserve", "projects.csv", "Additional Certification(s)", _split(";"), "label-type"),
    ("climate-action-reserve", "issuances.csv", "Project Type", _plain, "project-type"),
    ("climate-action-reserve", "issuances.csv", "Reduction/Removal", _plain, "unit-type"),
    ("climate-action-reserve", "issuances.csv", "Additional Certification(s)", _split(";"), "label-type"),
    ("climate-action-reserve", "retirements.csv", "Retirement Reason", _plain, "retirement-reason"),
    ("climate-action-reserve", "retirements.csv", "Project Type", _plain, "project-type"),
    ("climate-action-reserve", "retirements.csv", "Reduction/Removal", _plain, "unit-type"),
    ("climate-action-reserve", "retirements.csv", "Additional Certification(s)", _split(";"), "label-type"),
    ("climate-action-reserve", "cancellations.csv", "Cancellation Reason", _plain, "cancellation-reason"),
    ("climate-action-reserve", "cancellations.csv", "Project Type", _plain, "project-type"),
    ("climate-action-reserve", "cancellations.csv", "Reduction/Removal", _plain, "unit-type"),
    ("climate-action-reserve", "cancellations.csv", "Additional Certification(s)", _split(";"), "label-type"),
    ("art-trees", "projects.csv", "Status", _plain, "project-status"),
    ("art-trees", "projects.csv", "Program Type", _plain, "project-type"),
    ("art-trees", "projects.csv", "Crediting Program and Standard", _plain, "programme"),
    ("art-trees", "issuances.csv", "Program Type", _plain, "project-type"),
    ("art-trees", "issuances.csv", "Crediting Program and Standard", _plain, "programme"),
    ("art-trees", "retirements.csv", "Retirement Reason", _plain, "retirement-reason"),
    ("art-trees", "retirements.csv", "Program Type", _plain, "project-type"),
    ("art-trees", "retirements.csv", "Crediting Program and Standard", _plain, "programme"),
    ("art-trees", "cancellations.csv", "Cancellation Reason", _plain, "cancellation-reason"),
    ("art-trees", "cancellations.csv", "Program Type", _plain, "project-type"),
    ("art-trees", "cancellations.csv", "Crediting Program and Standard", _plain, "programme"),
    ("isometric", "projects.csv", "status", _plain, "project-status"),
    ("isometric", "projects.csv", "pathway", _plain, "project-type"),
    ("isometric", "retirements.csv", "purposes", _py_list, "retirement-reason"),
    ("cercarbono", "projects.csv", "stage", _plain, "project-status"),
    ("cercarbono", "projects.csv", "sector", _py_dicts("description"), "sector"),
    ("cercarbono", "projects.csv", "credits_type", _plain, "unit-kind"),
    ("cercarbono", "projects.csv", "standard", _plain, "programme"),
    ("cercarbono", "issuances.csv", "elegible", _py_dicts("description"), "label-type"),
    ("cercarbono", "issuances.csv", "elegible", _py_dicts("code"), "label-type"),
    ("cercarbono", "retirements.csv", "certificate_destination", _plain, "retirement-reason"),
    ("arb", "nc-arboc_issuance_sheet3.csv", "Project Type", _plain, "project-type"),
    ("arb", "nc-arboc_issuance_sheet3.csv", "Early Action/ Compliance", _plain, "programme"),
]

# Columns deliberately not mapped to a scheme, with the reason (reported, not tested).
NOT_MAPPED = {
    ("american-carbon-registry", "retirements.csv", "Purpose of Retirement"): "free text (ck:purposeText)",
    ("art-trees", "retirements.csv", "Purpose of Retirement"): "free text (ck:purposeText)",
    ("art-trees", "cancellations.csv", "Cancellation Details"): "free text (ck:note)",
    ("american-carbon-registry", "cancellations.csv", "Cancellation Details"): "free text (ck:note)",
    ("gold-standard", "projects.csv", "Size"): "project scale: no carbonkg scheme yet",
    ("gold-standard", "projects.csv", "Programme of Activities"): "POA/VPA/Standalone: structure, not a scheme",
    ("gold-standard", "issuances.csv", "Article Six Authorization"): "only 'Not Applicable' (no label)",
    ("climate-action-reserve", "issuances.csv", "Crediting Period"): "Initial/Renewed-Second: no scheme",
    ("arb", "nc-arboc_issuance_sheet3.csv", "Provides DEBS"): "DEBS/NO DEBS flag: no scheme",
    ("arb", "nc-arboc_issuance_sheet3.csv", "Invalidation Timeframe"): "3 years / 8 years: a duration",
}


def _rows(folder: str, file: str) -> list[dict[str, str]]:
    with (EXPORTS / folder / file).open(newline="", encoding="utf-8") as fh:
        return list(csv.DictReader(fh))


@pytest.mark.parametrize(
    "folder,file,column,splitter,scheme",
    COVERAGE,
    ids=[f"{f}/{fi}:{c}->{s}" for f, fi, c, _, s in COVERAGE],
)
def test_every_raw_value_in_the_real_exports_is_mapped(
    graphs: dict[str, Graph],
    folder: str,
    file: str,
    column: str,
    splitter: Callable[[str], list[str]],
    scheme: str,
) -> None:
    rows = _rows(folder, file)
    assert rows and column in rows[0], f"{folder}/{file} has no column {column!r}"
    known = lookup_strings(graphs[scheme])
    values = {v for row in rows for v in splitter(row[column] or "")}
    unmapped = sorted(v for v in values if v not in known)
    assert not unmapped, f"{folder}/{file} {column!r}: not in scheme {scheme}: {unmapped}"


def test_not_mapped_columns_exist() -> None:
    """The documented exclusions name real columns (so the list does not go stale)."""
    for folder, file, column in NOT_MAPPED:
        assert column in _rows(folder, file)[0], (folder, file, column)


def test_cercarbono_sector_ids_match_scope_notation(graphs: dict[str, Graph]) -> None:
    g = graphs["sector"]
    known = lookup_strings(g)
    for row in _rows("cercarbono", "projects.csv"):
        for d in ast.literal_eval(row["sector"] or "[]"):
            (concept,) = known[d["description"]]
            assert str(d["id"]) in {str(n) for n in g.objects(concept, SKOS.notation)}, d


def test_cercarbono_eligibility_codes_are_notations(graphs: dict[str, Graph]) -> None:
    g = graphs["label-type"]
    known = lookup_strings(g)
    for row in _rows("cercarbono", "issuances.csv"):
        for d in ast.literal_eval(row["elegible"] or "[]"):
            (concept,) = known[d["description"]]
            assert (concept, SKOS.notation, Literal(d["code"])) in g, d


# Values named in shared/docs/data-model.md (section 3) or in OffsetsDB's status maps as occurring
# in full registry exports but absent from the sample files.
KNOWN_ABSENT = {
    "project-status": [
        "Registration requested", "Registration and verification approval requested", "On Hold",
        "Withdrawn", "Inactive", "Units Transferred from Approved GHG Program", "Rejected by Administrator",
        "Crediting Period Renewal Requested", "Crediting Period Renewal and Verification Approval Requested",
        "GOLD_STANDARD_CERTIFIED_PROJECT", "GOLD_STANDARD_CERTIFIED_DESIGN", "LISTED",
        "Listed - Active ARB Project", "Listed – Active ARB Project", "ARB Inactive", "ARB Terminated",
        "Listed - Proposed Project", "Listed - Active Registry Project", "Submitted",
        "Transferred ARB or Ecology Project",
    ],
    "label-type": [
        "CORSIA - Pilot Phase, 2021-2023 Scope", "CORSIA - Pilot Phase, 2021-2023 Eligible",
        "CORSIA - First Phase, 2024-2026 Eligible", "Article 6 Correspondingly Adjusted", "SD VISta", "W+",
        "Crown Standard", "CCB-Gold", "CCB-Community Gold", "CCB-Climate Gold",
    ],
    "unit-kind": ["PER"],
    "project-type": ["IFM", "ACoGS"],
}


@pytest.mark.parametrize("scheme", sorted(KNOWN_ABSENT))
def test_known_values_absent_from_sample_are_mapped(graphs: dict[str, Graph], scheme: str) -> None:
    known = lookup_strings(graphs[scheme])
    assert not [v for v in KNOWN_ABSENT[scheme] if v not in known]
