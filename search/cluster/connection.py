"""Connection: joining the Ray cluster at an address, once a process, and Ray's errors told as
one line.

Addresses: `local` starts a cluster on this machine for the life of this process (no dashboard);
`auto` joins the cluster this machine is a node of (`ray start --head` or `ray start --address`
ran here); `ray://HOST:10001` joins a remote cluster through Ray Client; any other address is
handed to Ray as it is (`HOST:6379`, a head node's GCS).
"""

from __future__ import annotations

import logging
import os
import re
from typing import Any

from search.errors import KensakuError

NAMESPACE = "kensaku"  # where the shard servers' names live
INSTALL = "pip install 'kensaku[cluster]'"
_HOST = r"(\[[0-9A-Fa-f:.]+\]|[^\s/:\[\]]+)"
_ADDRESS = re.compile(rf"(local|auto|ray://{_HOST}(:\d+)?|{_HOST}:\d+)\Z")


class ClusterError(KensakuError):
    """The cluster cannot be reached, or lost what it was doing."""


def ray_module() -> Any:
    """Ray, imported; ClusterError saying which extra to install where it is missing."""
    try:
        import ray
    except ImportError:
        raise ClusterError(f"--cluster needs Ray, which is not installed: {INSTALL}") from None
    return ray


def checked_address(address: str) -> str:
    """`address` if it has the form of one (see above); else ClusterError saying which have."""
    if not _ADDRESS.match(address):
        raise ClusterError(
            f"{address!r} is no cluster address: local, auto, ray://HOST:10001 or HOST:6379"
        )
    return address


def connect(address: str) -> Any:
    """Ray, joined to the cluster at `address` (a process joins one cluster: the first)."""
    ray = ray_module()
    if ray.is_initialized():
        return ray
    options: dict[str, Any] = {
        "namespace": NAMESPACE,
        "logging_level": logging.WARNING,
        "log_to_driver": False,
    }
    if address == "local":
        options.update(num_cpus=os.cpu_count() or 1, include_dashboard=False)
    else:
        options["address"] = address
    try:
        ray.init(**options)
    except (ConnectionError, RuntimeError, ValueError, TimeoutError) as error:
        raise ClusterError(f"cannot join the Ray cluster at {address}: {one_line(error)}") from None
    return ray


def one_line(error: BaseException) -> str:
    """An error's message, its first line."""
    lines = str(error).strip().splitlines()
    return lines[0] if lines else type(error).__name__
