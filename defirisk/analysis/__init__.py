"""Glue between protocol records and pure models: arrays in, result tables out (no I/O)."""
