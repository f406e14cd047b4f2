"""carbonkg.shapes."""
