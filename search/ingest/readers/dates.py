"""Dates: a document's own date as its format writes it, read into a day (YYYY-MM-DD).

A PDF's `D:20240105093000+09'00'`, an ISO 8601 date or time (DOCX core properties, HTML `<meta>`,
EPUB metadata: `2024-01-05`, `2024-01-05T00:30:00Z`), a day written out (`2024年1月5日`,
`2024/1/5`). A time with a time zone is the day it was in this machine's local time, as a file's
modification time is; a time without one, the day it names. Anything else is no date (None).
"""

from __future__ import annotations

import re
from datetime import datetime, timedelta, timezone

_ISO = re.compile(
    r"\s*(\d{4})(?:-?(\d{2})(?:-?(\d{2}))?)?"
    r"(?:[T ](\d{2}):?(\d{2})(?::?(\d{2})(?:[.,]\d+)?)?\s*(Z|[+-]\d{2}(?::?\d{2})?)?)?\s*$"
)
_PDF = re.compile(
    r"\s*(?:D:)?(\d{4})(\d{2})?(\d{2})?(\d{2})?(\d{2})?(\d{2})?"
    r"(?:(Z|[+-])(?:(\d{2})'?(?:(\d{2})'?)?)?)?\s*$"
)
_WRITTEN = re.compile(r"\s*(\d{4})\s*[年/.]\s*(\d{1,2})\s*[月/.]\s*(\d{1,2})\s*日?\s*$")
_EARLIEST_YEAR = 1900  # before this, a date is a mistake (a year 0000, a creator's default)


def local_day(timestamp: float) -> str:
    """The local day of a POSIX timestamp (a file's modification time)."""
    return datetime.fromtimestamp(timestamp).strftime("%Y-%m-%d")


def iso_day(text: str | None) -> str | None:
    """The day of an ISO 8601 date or time, or of a day written out; None for anything else."""
    if not text:
        return None
    found = _ISO.match(text)
    if found:
        year, month, day, hour, minute, second, zone = found.groups()
        return _day(year, month, day, hour, minute, second, _offset(zone))
    written = _WRITTEN.match(text)
    if written:
        year, month, day = written.groups()
        return _day(year, month, day)
    return None


def pdf_day(text: str | None) -> str | None:
    """The day of a PDF date (`D:YYYYMMDDHHmmSSOHH'mm'`, any tail left out); None if none."""
    if not text:
        return None
    found = _PDF.match(text)
    if not found:
        return iso_day(text)
    year, month, day, hour, minute, second, sign, zone_hours, zone_minutes = found.groups()
    offset = None
    if sign == "Z":
        offset = timedelta(0)
    elif sign:
        offset = timedelta(hours=int(zone_hours or 0), minutes=int(zone_minutes or 0))
        offset = -offset if sign == "-" else offset
    return _day(year, month, day, hour, minute, second, offset)


def _offset(zone: str | None) -> timedelta | None:
    if not zone:
        return None
    if zone == "Z":
        return timedelta(0)
    digits = zone[1:].replace(":", "")
    offset = timedelta(hours=int(digits[:2]), minutes=int(digits[2:4] or 0))
    return -offset if zone[0] == "-" else offset


def _day(
    year: str,
    month: str | None,
    day: str | None,
    hour: str | None = None,
    minute: str | None = None,
    second: str | None = None,
    offset: timedelta | None = None,
) -> str | None:
    try:
        moment = datetime(
            int(year),
            int(month or 1),
            int(day or 1),
            int(hour or 0),
            int(minute or 0),
            min(int(second or 0), 59),
        )
    except ValueError:
        return None
    if moment.year < _EARLIEST_YEAR:
        return None
    if offset is not None and hour is not None:
        moment = moment.replace(tzinfo=timezone(offset)).astimezone().replace(tzinfo=None)
    return moment.strftime("%Y-%m-%d")
