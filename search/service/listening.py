"""Listening: the socket a long-running server (the page and API, the MCP server) answers on,
its URL, and which Host names it answers when it listens on this machine only."""

from __future__ import annotations

import ipaddress
import socket

from search.errors import KensakuError

# The names a browser on this machine gives a server bound to 127.0.0.1: answering no other Host
# keeps a web page from reaching it through a DNS name rebound to 127.0.0.1.
LOOPBACK_NAMES = ["127.0.0.1", "localhost"]


class CannotListen(KensakuError):
    """The server cannot listen on the address it was given."""


def is_loopback(host: str) -> bool:
    """Whether `host` is this machine's IPv4 loopback address or name."""
    try:
        return ipaddress.IPv4Address(host).is_loopback
    except ValueError:
        return host == "localhost"


def listen(host: str, port: int) -> socket.socket:
    """A socket listening on host:port (port 0: any free one); CannotListen when it cannot."""
    try:
        family = socket.AF_INET6 if ":" in host else socket.AF_INET
        sock = socket.socket(family, socket.SOCK_STREAM)
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        sock.bind((host.strip("[]"), port))
        sock.listen(128)
    except OSError as error:
        raise CannotListen(f"cannot listen on {host}:{port}: {error.strerror or error}") from None
    return sock


def url_of(sock: socket.socket) -> str:
    """The http:// URL of a listening socket."""
    host, port = sock.getsockname()[:2]
    return f"http://[{host}]:{port}/" if ":" in host else f"http://{host}:{port}/"
