"""Index: paragraphs stored on disk, in Whoosh's files with kensaku's own codec.

- `schema`: the fields of a paragraph's document and the terms each indexes;
- `codec`: the bytes of the terms dictionary, the postings and the stored column, written and
  read side by side (and the adapters Whoosh's own searcher reads them through);
- `writer`: segments written in bulk by worker processes;
- `build`: the manifest, the generations and their atomic swap, change detection, and the
  build and update of an index from its documents folder.
"""
