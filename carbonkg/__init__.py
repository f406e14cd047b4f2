"""carbonkg: carbon-credit registries as one linked-data knowledge graph."""

__version__ = "0.1.0"
