"""Marks the Japanese pages (docs/ja/) as Japanese: `<html lang="ja">`, so that browsers pick
Japanese glyphs and hyphenation and screen readers a Japanese voice. The theme's language
(mkdocs.yml) stays English for the rest of the site.
"""

from __future__ import annotations

from typing import Any

FOLDER = "ja/"
ENGLISH = '<html lang="en"'
JAPANESE = '<html lang="ja"'


def on_post_page(output: str, page: Any, config: Any) -> str:
    if not page.file.src_uri.startswith(FOLDER):
        return output
    if ENGLISH not in output:
        raise ValueError(f"{page.file.src_uri}: no {ENGLISH}> to mark as Japanese")
    return output.replace(ENGLISH, JAPANESE, 1)
