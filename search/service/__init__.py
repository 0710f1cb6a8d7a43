"""Service: an index open for searching, as the library, the command line and the server use it.

- `searcher`: `Searcher`, an open index answering queries, and `search()`, the one-call API;
- `collection`: an index, or a sharded index's shards, opened for searching (here or on a
  cluster);
- `indexing`: one index or shards built and updated (here or on a cluster);
- `live`: the one Searcher a long-running process answers with, following new generations;
- `refresh`: a served index kept in step with its documents;
- `status`: what an index holds and how it stands.
"""
