"""Ranking: the paragraphs a query's hits are chosen from, in order.

- `ranking`: the candidates of a keyword query or a question from the engine's matches and
  scores;
- `rerank`: the candidates reordered by how well each answers.
"""
