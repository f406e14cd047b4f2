"""Where the ontology's files are, found through importlib.resources so that an installed wheel
and a source checkout behave the same."""

from __future__ import annotations

from collections.abc import Iterator
from importlib.resources import files
from pathlib import Path

ONTOLOGY_IRI = "https://w3id.org/carbonkg/ontology"
CK_NAMESPACE = "https://w3id.org/carbonkg/ontology#"
VOCAB_BASE = "https://w3id.org/carbonkg/vocab/"

#: The modules of the one ontology, header first.
MODULES = ("carbonkg.ttl", "core.ttl", "lifecycle.ttl", "labels.ttl", "article6.ttl", "provenance.ttl")


def package_dir() -> Path:
    return Path(str(files("carbonkg.ontology")))


def module_paths() -> list[Path]:
    root = package_dir()
    return [root / name for name in MODULES]


def vocabulary_paths() -> list[Path]:
    return sorted((package_dir() / "vocab").glob("*.ttl"))


def alignment_paths() -> list[Path]:
    return sorted((package_dir() / "alignments").glob("*.ttl"))


def example_paths() -> list[Path]:
    return sorted((package_dir() / "examples").glob("*.ttl"))


def all_turtle_paths() -> Iterator[Path]:
    """Every Turtle file the ontology package ships."""
    yield from module_paths()
    yield from vocabulary_paths()
    yield from alignment_paths()
    yield from example_paths()


def ontology_graph():  # -> rdflib.Graph, imported lazily: rdflib is slow to import
    """The ontology's modules merged into one rdflib graph (no vocabularies, no alignments)."""
    import rdflib

    graph = rdflib.Graph()
    for path in module_paths():
        graph.parse(path, format="turtle")
    return graph
