"""Readers: one module a document format, each turning a file's bytes into blocks of text."""
