"""Ingest: which files are documents, and each document read into cited paragraphs.

- `discovery`: the documents under a folder, and what is left out and why;
- `readers/`: one module a format, a file's bytes into a title and blocks of text;
- `paragraphs`: a document's blocks numbered into `Paragraph`s with their citations;
- `reporting`: what a build reports as it goes and when it ends.
"""
