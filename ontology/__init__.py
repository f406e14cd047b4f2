"""carbonkg.ontology."""
