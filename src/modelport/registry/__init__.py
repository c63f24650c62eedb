"""The model registry service: models, versions, aliases, lineage and verified artifacts."""
