"""The content pack format (schema and loader) and the bundled packs, as data."""
