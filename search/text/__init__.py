"""Text: Japanese text made into search terms, the one analysis the index and queries share.

- `analysis`: SudachiPy's morphemes as terms (words, subwords, readings, pairs) with their
  offsets, and the folding of text for substrings (grams, chars);
- `bulk`: the same terms of many texts at once, for the index (numpy, no offsets);
- `sentences`: where a sentence ends, for snippets, cutting and the reranker;
- `common_words`: the words whose neighbours are indexed as pairs;
- `synonym_groups`: Sudachi's synonym groups of an index's words, written and read.
"""
