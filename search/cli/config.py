"""Configuration: search and index settings from a TOML file, so that they need not be typed
every time.

The file is `--config FILE`, else `$KENSAKU_CONFIG`, else `kensaku.toml` in the current directory
when there is one. Every key is optional:

    docs = "資料"               # the documents folder
    index = "~/.cache/kensaku"  # where the index lives
    limit = 20                 # hits a page
    mode = "auto"              # or "keyword", "question"
    color = "auto"             # or "always", "never"
    synonyms = "synonyms.txt"  # Solr format
    sudachi_synonyms = false   # expand with Sudachi's synonym groups
    include = ["*.pdf", "*.md"]   # index only these files (.gitignore syntax)
    exclude = ["drafts/", "*.tmp.html"]   # and never these
    cluster = "auto"           # search and index on a Ray cluster (see --cluster)

A relative path is relative to the file, and `~` is the home directory. A setting holds where no
command-line option or environment variable gives it: option > environment > file > default.
"""

from __future__ import annotations

import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from search.errors import KensakuError
from search.query.parser import MODES

DEFAULT_CONFIG_NAME = "kensaku.toml"
COLORS = ("auto", "always", "never")
_PATHS = ("docs", "index", "synonyms")
_KEYS = {
    "docs": str,
    "index": str,
    "limit": int,
    "mode": str,
    "color": str,
    "synonyms": str,
    "sudachi_synonyms": bool,
    "include": list,
    "exclude": list,
    "cluster": str,
}
_CHOICES = {"mode": MODES, "color": COLORS}


class ConfigError(KensakuError):
    exit_code = 2


@dataclass
class Config:
    docs: Path | None = None
    index: Path | None = None
    limit: int | None = None
    mode: str | None = None
    color: str | None = None
    synonyms: Path | None = None
    sudachi_synonyms: bool | None = None
    include: tuple[str, ...] = ()
    exclude: tuple[str, ...] = ()
    cluster: str | None = None


def first_given(*values):
    """The first of `values` that is not None (an option, then the config file, then a default)."""
    return next((value for value in values if value is not None), None)


def load_config(path: Path | None) -> Config:
    """The settings in `path`, or in ./kensaku.toml when `path` is None and that file exists."""
    if path is None:
        path = Path(DEFAULT_CONFIG_NAME)
        if not path.is_file():
            return Config()
    path = Path(path)
    values = _read_toml(path)
    for key, value in values.items():
        _check(path, key, value)
    for key in _PATHS:
        if key in values:
            values[key] = path.parent / Path(values[key]).expanduser()
    for key in ("include", "exclude"):
        if key in values:
            values[key] = tuple(values[key])
    return Config(**values)


def _of_kind(value: Any, kind: type) -> bool:
    """Whether a setting's value is of its kind: a bool is no int, a list holds only strings."""
    if kind is int and isinstance(value, bool):
        return False
    if kind is list:
        return isinstance(value, list) and all(isinstance(item, str) for item in value)
    return isinstance(value, kind)


def _check(path: Path, key: str, value: Any) -> None:
    if key not in _KEYS:
        raise ConfigError(f"{path}: unknown setting {key!r}; known: {', '.join(_KEYS)}")
    kind = _KEYS[key]
    if not _of_kind(value, kind):
        raise ConfigError(
            f"{path}: {key} must be a {'list of strings' if kind is list else kind.__name__}"
        )
    if key in _CHOICES and value not in _CHOICES[key]:
        raise ConfigError(f"{path}: {key} must be one of {', '.join(_CHOICES[key])}, not {value!r}")
    if key == "limit" and value < 1:
        raise ConfigError(f"{path}: limit must be 1 or more, not {value}")
    if key in _PATHS and not value:
        raise ConfigError(f"{path}: {key} must name a path, not an empty string")


def _read_toml(path: Path) -> dict:
    if sys.version_info >= (3, 11):
        import tomllib
    else:
        import tomli as tomllib
    try:
        with open(path, "rb") as file:
            return tomllib.load(file)
    except OSError as error:
        raise ConfigError(f"cannot read the config file {path}: {error.strerror}") from None
    except tomllib.TOMLDecodeError as error:
        raise ConfigError(f"{path} is not valid TOML: {error}") from None
