"""Configuration: search settings from a TOML file, so that they need not be typed every time.

The file is `--config FILE`, else `$KENSAKU_CONFIG`, else `kensaku.toml` in the current directory
when there is one. Every key is optional:

    mode = "auto"              # or "keyword", "question"
    synonyms = "synonyms.txt"  # Solr format; a relative path is relative to this file
    sudachi_synonyms = false   # expand with Sudachi's synonym groups
    include = ["*.pdf", "*.md"]   # index only these files (.gitignore syntax)
    exclude = ["drafts/", "*.tmp.html"]   # and never these

Options given on the command line win over the file.
"""

from __future__ import annotations

import sys
from dataclasses import dataclass
from pathlib import Path

from .errors import KensakuError

DEFAULT_CONFIG_NAME = "kensaku.toml"
_KEYS = {"mode": str, "synonyms": str, "sudachi_synonyms": bool, "include": list, "exclude": list}


class ConfigError(KensakuError):
    exit_code = 2


@dataclass
class Config:
    mode: str | None = None
    synonyms: Path | None = None
    sudachi_synonyms: bool | None = None
    include: tuple[str, ...] = ()
    exclude: tuple[str, ...] = ()


def load_config(path: Path | None) -> Config:
    """The settings in `path`, or in ./kensaku.toml when `path` is None and that file exists."""
    if path is None:
        path = Path(DEFAULT_CONFIG_NAME)
        if not path.is_file():
            return Config()
    values = _read_toml(Path(path))
    for key, value in values.items():
        if key not in _KEYS:
            raise ConfigError(f"{path}: unknown setting {key!r}; known: {', '.join(_KEYS)}")
        if not isinstance(value, _KEYS[key]) or (
                isinstance(value, list) and not all(isinstance(item, str) for item in value)):
            raise ConfigError(f"{path}: {key} must be a "
                              f"{'list of strings' if _KEYS[key] is list else _KEYS[key].__name__}")
    synonyms = values.get("synonyms")
    return Config(mode=values.get("mode"),
                  synonyms=Path(path).parent / synonyms if synonyms else None,
                  sudachi_synonyms=values.get("sudachi_synonyms"),
                  include=tuple(values.get("include", ())), exclude=tuple(values.get("exclude", ())))


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
