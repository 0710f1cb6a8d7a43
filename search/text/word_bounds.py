"""Latin word bounds: where a substring of folded text stands as a whole Latin word or number,
so that AI is not found in Air, nor 2 in 2024, while AI in AIエコシステム is whole."""

from __future__ import annotations


def latin_class(char: str) -> str | None:
    """ "digit" or "letter" for a (folded) character of Latin text, else None."""
    if "0" <= char <= "9":
        return "digit"
    return "letter" if char.isalpha() and char < "\u0250" else None


def at_word_bounds(folded: str, start: int, end: int) -> bool:
    """Whether folded[start:end] does not run on into more of the same Latin letters or digits
    it begins or ends with (Japanese around it is no run-on: AI in AIエコシステム is whole)."""
    first, last = latin_class(folded[start]), latin_class(folded[end - 1])
    return not (
        (first and start > 0 and latin_class(folded[start - 1]) == first)
        or (last and end < len(folded) and latin_class(folded[end]) == last)
    )
