"""The search page in a real headless browser (Debian's chromium and chromedriver, through
selenium) against the `served` kensaku serve process: type a query, see the marked hits, follow a
citation, page forward, see an error; markup in documents stays text; phone width, keyboard
focus and contrast. KENSAKU_SCREENSHOTS=DIR saves screenshots of each page there."""

from __future__ import annotations

import os
import shutil
from pathlib import Path
from urllib.parse import quote

import pytest

from .conftest import HOSTILE_NAME

CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")
CHROMEDRIVER = shutil.which("chromedriver")
DESKTOP, PHONE = (1280, 900), (390, 844)
WAIT_SECONDS = 20


@pytest.fixture(scope="module")
def browser():
    if not (CHROMIUM and CHROMEDRIVER):
        pytest.skip(
            "no chromium and chromedriver on PATH: `apt-get install chromium "
            "chromium-driver` (.ci/run installs them where it can)"
        )
    webdriver = pytest.importorskip("selenium.webdriver", reason="selenium: pip install '.[test]'")
    from selenium.webdriver.chrome.service import Service

    options = webdriver.ChromeOptions()
    options.binary_location = CHROMIUM
    for argument in (
        "--headless=new",
        "--no-sandbox",
        "--disable-dev-shm-usage",
        "--disable-gpu",
        "--lang=ja",
        f"--window-size={DESKTOP[0]},{DESKTOP[1]}",
    ):
        options.add_argument(argument)
    options.set_capability("goog:loggingPrefs", {"browser": "ALL"})  # CSP violations
    driver = webdriver.Chrome(service=Service(CHROMEDRIVER), options=options)
    driver.implicitly_wait(0)
    yield driver
    driver.quit()


@pytest.fixture
def page(browser, served):
    """The browser at desktop width in light mode, opening paths of the served site."""
    browser.set_window_size(*DESKTOP)
    browser.execute_cdp_cmd("Emulation.setEmulatedMedia", {"features": []})

    def open_path(path: str = "/"):
        browser.get(served.url.rstrip("/") + path)
        return browser

    return open_path


def screenshot(browser, name: str) -> None:
    folder = os.environ.get("KENSAKU_SCREENSHOTS")
    if folder:
        Path(folder).mkdir(parents=True, exist_ok=True)
        browser.save_screenshot(str(Path(folder) / f"{name}.png"))


def wait_for(browser, css: str):
    from selenium.webdriver.common.by import By
    from selenium.webdriver.support import expected_conditions
    from selenium.webdriver.support.ui import WebDriverWait

    return WebDriverWait(browser, WAIT_SECONDS).until(
        expected_conditions.visibility_of_element_located((By.CSS_SELECTOR, css))
    )


def css(browser, selector: str):
    from selenium.webdriver.common.by import By

    return browser.find_elements(By.CSS_SELECTOR, selector)


def search_for(browser, query: str) -> None:
    from selenium.webdriver.common.keys import Keys

    box = wait_for(browser, "#q")
    box.clear()
    box.send_keys(query + Keys.ENTER)


def test_typing_a_query_shows_ranked_hits_with_their_matches_marked(page):
    browser = page("/")
    screenshot(browser, "front-desktop")
    search_for(browser, "ピラー2")
    summary = wait_for(browser, "h1.summary")
    assert summary.text == "「ピラー2」に一致する段落: 13件（1–10件目を表示）"
    assert "q=%E3%83%94%E3%83%A9%E3%83%BC2" in browser.current_url  # bookmarkable
    hits = css(browser, "li.hit")
    assert len(hits) == 10
    assert all(hit.find_elements("css selector", "mark") for hit in hits)
    assert hits[0].find_element("css selector", ".cite").text == "001_2eb2e19b899ffa84.txt:8 · ¶8"
    assert hits[0].find_element("css selector", "mark").text == "ピラー2"
    assert "001_2eb2e19b899ffa84.txt:21" in hits[0].find_element("css selector", ".also").text
    assert css(browser, "#q")[0].get_attribute("value") == "ピラー2"
    screenshot(browser, "results-desktop")


def test_a_citation_opens_the_document_scrolled_to_its_paragraph(page):
    browser = page("/?q=" + quote("日本関連"))
    link = wait_for(browser, "li.hit .hit-head a")
    cite = link.find_element("css selector", ".cite").text
    link.click()
    chosen = wait_for(browser, "li.chosen")
    source, line = cite.split(" · ")[0].rsplit(":", 1)
    assert chosen.get_attribute("id") == f"p{cite.split('¶')[1]}"
    assert chosen.find_element("css selector", ".line").text == f"{line}行"
    assert browser.find_element("css selector", ".doc-source").text.startswith(source)
    assert len(css(browser, "li.chosen")) == 1
    assert [mark.text for mark in css(browser, "li.chosen mark")] == ["日本関連"]
    in_view = browser.execute_script(
        "const r = arguments[0].getBoundingClientRect();"
        "return r.top >= 0 && r.bottom <= window.innerHeight;",
        chosen,
    )
    assert in_view and browser.execute_script("return window.scrollY") > 0
    screenshot(browser, "document-desktop")
    browser.find_element("css selector", ".back a").click()
    assert wait_for(browser, "h1.summary").text.startswith("「日本関連」に一致する段落")


def test_paging_forward_and_back(page):
    browser = page("/?q=" + quote("日本"))
    first = [hit.text for hit in css(browser, "li.hit .cite")]
    wait_for(browser, 'a[rel="next"]').click()
    assert wait_for(browser, "h1.summary").text == "「日本」に一致する段落: 76件（11–20件目を表示）"
    assert browser.find_element("css selector", "ol.hits").get_attribute("start") == "11"
    second = [hit.text for hit in css(browser, "li.hit .cite")]
    assert len(second) == 10 and not set(first) & set(second)
    browser.find_element("css selector", 'a[rel="prev"]').click()
    wait_for(browser, "h1.summary")
    assert [hit.text for hit in css(browser, "li.hit .cite")] == first


def test_an_unbalanced_quote_shows_the_error_in_the_page_in_japanese(page):
    browser = page("/")
    search_for(browser, '"ピラー2')
    error = wait_for(browser, '.error[role="alert"]')
    assert error.text == (
        '検索できません\n引用符 " が閉じていません。語句の終わりにも " を付けてください。'
    )
    assert css(browser, "#q")[0].get_attribute("value") == '"ピラー2'
    screenshot(browser, "error-desktop")


def test_markup_in_documents_and_queries_is_shown_as_text(page):
    query = "危険試験 OR <img src=x onerror=document.title=2>"
    browser = page("/?q=" + quote(query))
    hit = wait_for(browser, "li.hit")
    assert query in browser.find_element("css selector", "h1.summary").text
    assert '<script>document.title="pwned"</script>危険な題名' in hit.text
    assert """"><img src=x onerror="document.title='pwned'">""" in hit.text
    assert browser.title.endswith("- kensaku 検索") and not css(browser, "main img, main script")
    hit.find_element("css selector", ".hit-head a").click()
    wait_for(browser, "li.chosen")
    assert HOSTILE_NAME in browser.find_element("css selector", ".doc-source").text
    assert browser.title.startswith("<script>") and not css(browser, "main img, main script")


@pytest.mark.parametrize(
    "path", ["/", "/?q=" + quote("ピラー2"), "/documents/001_2eb2e19b899ffa84.txt?paragraph=8#p8"]
)
def test_pages_fit_a_phone_screen(page, browser, path):
    browser.set_window_size(*PHONE)
    page(path)
    wait_for(browser, "main")
    widths = browser.execute_script(
        "return [document.documentElement.scrollWidth, document.documentElement.clientWidth]"
    )
    assert widths[0] <= widths[1]
    assert (
        browser.execute_script(
            "return parseFloat(getComputedStyle(document.querySelector('main')).fontSize)"
        )
        >= 16
    )
    name = {"/": "front"}.get(path, "results" if "q=" in path else "document")
    screenshot(browser, f"{name}-phone")


def test_the_keyboard_reaches_the_search_box_with_a_visible_focus(page, browser):
    from selenium.webdriver.common.keys import Keys

    page("/?q=" + quote("ピラー2"))
    body = wait_for(browser, "body")
    body.send_keys(Keys.TAB)
    assert browser.switch_to.active_element.text == "本文へ移動"  # the skip link comes first
    browser.switch_to.active_element.send_keys(Keys.TAB)
    browser.switch_to.active_element.send_keys(Keys.TAB)
    focused = browser.switch_to.active_element
    assert focused.get_attribute("id") == "q"
    assert browser.execute_script(
        "const s = getComputedStyle(arguments[0]); return [s.outlineStyle, s.outlineWidth]", focused
    ) == ["solid", "3px"]
    labels = browser.execute_script(
        "return [...document.querySelectorAll('input, select')].map(e => e.labels.length)"
    )
    assert labels == [1, 1]


def _luminance(rgb: list[float]) -> float:
    channels = [c / 255 for c in rgb[:3]]
    linear = [c / 12.92 if c <= 0.03928 else ((c + 0.055) / 1.055) ** 2.4 for c in channels]
    return 0.2126 * linear[0] + 0.7152 * linear[1] + 0.0722 * linear[2]


def _contrast(first: list[float], second: list[float]) -> float:
    lighter, darker = sorted((_luminance(first), _luminance(second)), reverse=True)
    return (lighter + 0.05) / (darker + 0.05)


COLOURS = """
const rgb = value => value.match(/[\\d.]+/g).map(Number);
const background = element => {
  for (let e = element; e; e = e.parentElement) {
    const colour = rgb(getComputedStyle(e).backgroundColor);
    if (colour.length < 4 || colour[3] > 0) return colour;
  }
  return [255, 255, 255];
};
return [...document.querySelectorAll(arguments[0])].map(
  e => [e.tagName + '.' + e.className, rgb(getComputedStyle(e).color), background(e)]);
"""


@pytest.mark.parametrize("scheme", ["light", "dark"])
def test_text_contrasts_with_its_background(page, browser, scheme):
    browser.execute_cdp_cmd(
        "Emulation.setEmulatedMedia",
        {"features": [{"name": "prefers-color-scheme", "value": scheme}]},
    )
    selectors = (
        "main p, main a, mark, .cite, .hit-title, .also, label, button, .brand-ja, footer p, "
        ".partial, .page-head, .parts, main td, main th, main dd"
    )
    pairs = []
    for path in (
        "/",
        "/?q=" + quote("ピラー2 韓国"),
        "/?q=%22",
        "/documents/001_2eb2e19b899ffa84.txt?paragraph=6",
        "/documents",
    ):
        page(path)
        wait_for(browser, "main")
        pairs += browser.execute_script(COLOURS, selectors)
        screenshot(browser, f"{scheme}-{path[1:3] or 'front'}")
    low = [(name, round(_contrast(fg, bg), 2)) for name, fg, bg in pairs if _contrast(fg, bg) < 4.5]
    assert len(pairs) > 20 and low == []


def test_the_some_of_the_words_label_does_not_look_like_a_link(page, browser):
    browser = page("/?q=" + quote("ピラー2 韓国"))
    label = wait_for(browser, ".partial")
    assert label.text == "一部の語のみ"
    assert browser.execute_script("return arguments[0].closest('a')", label) is None
    link = css(browser, ".hit-head a")[0]
    style = browser.execute_script(
        "const s = getComputedStyle(arguments[0]);return [s.color, s.textDecorationLine, s.cursor]",
        label,
    )
    link_colour = browser.execute_script(
        "return getComputedStyle(arguments[0].querySelector('.hit-title')).color", link
    )
    assert style[0] != link_colour and style[1] == "none" and style[2] == "default"
    assert css(browser, "label[for=mode]")[0].text == "検索方法"


def test_the_home_page_examples_are_links_that_search(page, browser):
    browser = page("/")
    examples = css(browser, "dl.help dt a")
    assert len(examples) >= 5
    query = examples[1].text
    examples[1].click()
    assert wait_for(browser, "h1.summary").text.startswith(f"「{query}」")
    assert css(browser, "li.hit")


@pytest.mark.parametrize(
    "path, shows", [("/docs", "Search the documents"), ("/redoc", "Search the documents")]
)
def test_swagger_ui_and_redoc_work_under_the_content_security_policy(page, browser, path, shows):
    browser.get_log("browser")  # what earlier pages logged
    browser = page(path)
    from selenium.webdriver.support.ui import WebDriverWait

    WebDriverWait(browser, WAIT_SECONDS).until(
        lambda driver: shows in driver.find_element("tag name", "body").text
    )
    assert "List the documents" in browser.find_element("tag name", "body").text
    blocked = [
        entry["message"]
        for entry in browser.get_log("browser")
        if "Content Security Policy" in entry["message"]
        # ReDoc's footer links its maker's logo from the web, which no page here may load.
        and "cdn.redoc.ly" not in entry["message"]
    ]
    assert blocked == []
    screenshot(browser, path.strip("/"))
