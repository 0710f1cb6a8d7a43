"""A real `kensaku serve` process on 127.0.0.1 for the server's tests, and plain HTTP requests to it."""

from __future__ import annotations

import http.client
import json
import os
import signal
import subprocess
import sys
import threading
import time
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlencode, urlsplit

START_SECONDS = 60


@dataclass
class Reply:
    status: int
    headers: dict[str, str]
    body: bytes

    def json(self):
        return json.loads(self.body)

    @property
    def text(self) -> str:
        return self.body.decode("utf-8")


class Server:
    """`kensaku serve --port 0 ARGS` (or another command serving HTTP, such as `mcp --http`) in
    a child process; `url` once it listens."""

    def __init__(self, *args: str, cwd: Path | None = None, command: str = "serve") -> None:
        self.command = command
        command_line = [sys.executable, "-m", "search", *command.split(), "--port", "0", *args]
        self.process = subprocess.Popen(
            command_line,
            cwd=cwd,
            stdin=subprocess.DEVNULL,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
            env={**os.environ, "PYTHONUNBUFFERED": "1"},
        )
        self.stderr_lines: list[str] = []
        threading.Thread(target=self._collect_stderr, daemon=True).start()
        self.url = self._wait_for_url()
        parts = urlsplit(self.url)
        self.host, self.port = parts.hostname, parts.port

    def _collect_stderr(self) -> None:
        for line in self.process.stderr:
            self.stderr_lines.append(line)

    def _wait_for_url(self) -> str:
        found: list[str] = []
        reader = threading.Thread(
            target=lambda: found.append(self.process.stdout.readline()), daemon=True
        )
        reader.start()
        reader.join(START_SECONDS)
        line = found[0] if found else ""
        if not line.startswith("serving http://"):
            self.process.kill()
            raise RuntimeError(f"kensaku {self.command} did not start: {line!r} {self.stderr}")
        return line.split()[1]

    @property
    def stderr(self) -> str:
        return "".join(self.stderr_lines)

    def get(
        self,
        path: str,
        params: dict | None = None,
        headers: dict | None = None,
        method: str = "GET",
    ) -> Reply:
        """GET (or `method`) `path` as written (no normalizing of `..`), with `params`
        URL-encoded."""
        target = path + ("?" + urlencode(params) if params else "")
        connection = http.client.HTTPConnection(self.host, self.port, timeout=30)
        try:
            connection.request(method, target, headers=headers or {})
            response = connection.getresponse()
            return Reply(
                response.status, {k.lower(): v for k, v in response.getheaders()}, response.read()
            )
        finally:
            connection.close()

    def search(self, **params) -> Reply:
        return self.get("/api/search", params)

    def stop(self, sig: int = signal.SIGINT) -> int:
        """Stop the server as Ctrl-C does; its exit code."""
        if self.process.poll() is None:
            self.process.send_signal(sig)
            try:
                self.process.wait(30)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
        return self.process.returncode


def wait_until(condition, seconds: float = 30.0, step: float = 0.2):
    """The first true value of condition() within `seconds`, else the last value."""
    deadline = time.monotonic() + seconds
    while True:
        value = condition()
        if value or time.monotonic() > deadline:
            return value
        time.sleep(step)
