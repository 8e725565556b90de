"""The door events come in by: the ingest endpoint, its backpressure, the importer."""
