"""Results: what a search returns, as plain data.

- `hits`: a page of hits, each a ranked paragraph with its citation and where else it stands;
- `highlight`: what a query matched in a paragraph, and the snippet cut around it.
"""
