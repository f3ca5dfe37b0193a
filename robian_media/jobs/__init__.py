"""Durable ingest jobs on procrastinate: submit, run (fetch → probe → package → publish), cancel."""
