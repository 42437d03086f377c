"""Course format: models, loading, validation, templates."""
