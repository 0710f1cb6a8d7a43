"""The screenshots of the documentation (docs/images/*.png), taken in headless Chromium from a
real `kensaku serve` of the seeds, each once the page shows what the docs say it shows.

Every run takes them and checks the pages; with KENSAKU_UPDATE_SCREENSHOTS=1 it writes them into
docs/images/ (then commit them: the docs build needs no browser):

    KENSAKU_UPDATE_SCREENSHOTS=1 pytest tests/test_screenshots.py

The committed images are checked without a browser too: their sizes, and that they are small.
"""

from __future__ import annotations

import os
import struct
from pathlib import Path
from urllib.parse import quote

import pytest

from .conftest import REPO, SEEDS
from .test_server_page import browser, css, search_for, wait_for

__all__ = ["browser"]  # the fixture, imported for this module's own browser

IMAGES = REPO / "docs" / "images"
# The viewports the images are taken in, CSS pixels at one device pixel each: a small desktop
# window (the docs show it about 700 pixels wide; lower for a document, whose dense text makes
# a large PNG) and a phone.
DESKTOP = (960, 600)
DOCUMENT = (960, 480)
PHONE = (390, 844)
SHOTS = {"search-results.png": DESKTOP, "document.png": DOCUMENT, "phone.png": PHONE}
MAX_BYTES = 160_000  # each, so that the three stay within a few hundred KB
FIRST_CITE = "001_2eb2e19b899ffa84.txt:8 · ¶8"
SUMMARY = "「ピラー2」に一致する段落: 13件（1–10件目を表示）"


@pytest.fixture(scope="module")
def seeds_served(tmp_path_factory):
    """`kensaku serve` of the seeds alone, as the quick start serves them."""
    from .serving import Server

    index = tmp_path_factory.mktemp("screenshots") / "index"
    server = Server("--docs", str(SEEDS), "--index", str(index), "--refresh", "0")
    yield server
    server.stop()


class Shots:
    """The browser opening paths of the served page in a viewport of a given size, and taking
    the screenshots: into docs/images/ when KENSAKU_UPDATE_SCREENSHOTS is set, else `scratch`."""

    def __init__(self, browser, url: str, scratch: Path) -> None:
        self.browser, self.url = browser, url.rstrip("/")
        self.folder = IMAGES if os.environ.get("KENSAKU_UPDATE_SCREENSHOTS") else scratch

    def __call__(self, path: str, size: tuple[int, int]):
        width, height = size
        self.browser.execute_cdp_cmd(
            "Emulation.setDeviceMetricsOverride",
            {"width": width, "height": height, "deviceScaleFactor": 1, "mobile": size == PHONE},
        )
        self.browser.get(self.url + path)
        return self.browser

    def save(self, name: str) -> Path:
        path = self.folder / name
        path.write_bytes(self.browser.get_screenshot_as_png())
        assert png_size(path) == SHOTS[name]
        return path


@pytest.fixture
def shown(browser, seeds_served, tmp_path):
    browser.execute_cdp_cmd("Emulation.setEmulatedMedia", {"features": []})  # light mode
    yield Shots(browser, seeds_served.url, tmp_path)
    browser.execute_cdp_cmd("Emulation.clearDeviceMetricsOverride", {})


def test_search_results(shown):
    browser = shown("/", DESKTOP)
    search_for(browser, "ピラー2")
    assert wait_for(browser, "h1.summary").text == SUMMARY
    first = css(browser, "li.hit")[0]
    assert first.find_element("css selector", ".cite").text == FIRST_CITE
    assert [mark.text for mark in first.find_elements("css selector", "mark")][:1] == ["ピラー2"]
    assert first.is_displayed() and first.rect["y"] + first.rect["height"] < DESKTOP[1]
    shown.save("search-results.png")


def test_phone_layout(shown):
    browser = shown("/?q=" + quote("ピラー2"), PHONE)
    assert wait_for(browser, "h1.summary").text == SUMMARY
    widths = browser.execute_script(
        "return [document.documentElement.scrollWidth, document.documentElement.clientWidth]"
    )
    assert widths == [PHONE[0], PHONE[0]]  # nothing wider than the phone
    first = css(browser, "li.hit")[0]
    assert first.find_element("css selector", ".cite").text == FIRST_CITE
    assert first.rect["y"] < PHONE[1]  # a hit shows without scrolling
    shown.save("phone.png")


def test_document_opened_from_a_hit(shown):
    browser = shown("/?q=" + quote("ピラー2"), DOCUMENT)
    link = wait_for(browser, "li.hit .hit-head a")
    assert link.find_element("css selector", ".cite").text == FIRST_CITE
    link.click()
    chosen = wait_for(browser, "li.chosen")
    assert chosen.get_attribute("id") == "p8"
    assert chosen.find_element("css selector", ".line").text == "8行"
    assert "ピラー2" in [mark.text for mark in css(browser, "li.chosen mark")]
    assert browser.find_element("css selector", ".doc-source").text.startswith(
        "001_2eb2e19b899ffa84.txt"
    )
    in_view = browser.execute_script(
        "const r = arguments[0].getBoundingClientRect();"
        "return r.top >= 0 && r.bottom <= window.innerHeight;",
        chosen,
    )
    assert in_view
    shown.save("document.png")


@pytest.mark.parametrize("name", sorted(SHOTS))
def test_committed_screenshots_are_small_and_of_their_size(name):
    path = IMAGES / name
    assert path.is_file(), f"{path}: run KENSAKU_UPDATE_SCREENSHOTS=1 pytest {__file__}"
    assert png_size(path) == SHOTS[name]
    assert path.stat().st_size <= MAX_BYTES


def png_size(path: Path) -> tuple[int, int]:
    """A PNG's width and height, from its header."""
    head = path.read_bytes()[:24]
    assert head[:8] == b"\x89PNG\r\n\x1a\n", f"{path} is not a PNG"
    width, height = struct.unpack(">II", head[16:24])
    return width, height
