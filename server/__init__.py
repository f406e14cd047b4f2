"""carbonkg.server."""
