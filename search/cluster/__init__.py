"""Cluster: a sharded index built and searched on Ray, when one machine is not enough.

- `connection`: joining a cluster by address (`local` starts one here, `auto` joins the one this
  machine belongs to, `ray://HOST:10001` a remote one), and what Ray's errors mean to a user;
- `building`: a sharded build's jobs as Ray tasks, one a shard;
- `servers`: the long-lived, named, restartable actor that holds one shard open and answers the
  ranking's stages for it, following the generations the collection names;
- `searching`: a collection whose shards are those actors, called in parallel.

Ray is an optional extra (`pip install 'kensaku[cluster]'`), imported only by a command given a
cluster: no module here imports it at the top. Documents and index must be on a filesystem every
node sees, at the same path.
"""
