"""Service: an index open for searching, as the library, the command line and the server use it.

- `searcher`: `Searcher`, an open index answering queries, and `search()`, the one-call API;
- `live`: the one Searcher a long-running process answers with, following new generations;
- `refresh`: a served index kept in step with its documents;
- `status`: what an index holds and how it stands.
"""
