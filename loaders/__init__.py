"""carbonkg.loaders."""
