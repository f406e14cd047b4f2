"""carbonkg.shapes: SHACL shapes for carbonkg data, and two ways to run them.

Shape files (Turtle, in this package): ``core.ttl`` (one node shape per class) with the generated
``concepts.ttl`` (vocabulary membership; ``python -m carbonkg.shapes.build``), ``registry.ttl``
(consistency within a registry), ``cross-registry.ttl`` (across registries and sources),
``labels.ttl`` (labels and Article 6), and ``components.ttl`` (prefixes, loaded with every set).

Validation (:mod:`carbonkg.shapes.validate`): ``validate_store(store, sets=..., engine=...)``
returns a :class:`~carbonkg.shapes.validate.Report` whose results carry the source rows of the
records involved. Engines: ``fast`` (:mod:`carbonkg.shapes.fast`, the shapes compiled to SPARQL on
the Oxigraph store) and ``pyshacl`` (:mod:`carbonkg.shapes.reference`, the reference
implementation). Reports render as text, JSON or Turtle (:mod:`carbonkg.shapes.report`);
``carbonkg validate`` is the command (:mod:`carbonkg.shapes.command`).
"""
