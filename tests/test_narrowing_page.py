"""Narrowing on the search page, in a real headless browser (as test_server_page): a facet's link
narrows the URL and the results, a chosen filter is dropped by its own link and kept by the next
search, the order changes by a link, and suggestions come as one types (the page's own script)
and search when picked."""

from __future__ import annotations

from urllib.parse import parse_qs, quote, urlsplit

import pytest

from .test_narrowing import narrow_served  # noqa: F401 (a fixture)
from .test_server_page import browser, css, screenshot, search_for, wait_for  # noqa: F401

pytestmark = pytest.mark.usefixtures("browser")


@pytest.fixture
def narrow_page(browser, narrow_served):  # noqa: F811
    browser.set_window_size(1280, 900)

    def open_path(path: str = "/"):
        browser.get(narrow_served.url.rstrip("/") + path)
        return browser

    return open_path


def parameters(browser) -> dict[str, list[str]]:
    return parse_qs(urlsplit(browser.current_url).query)


def summary(browser) -> str:
    return wait_for(browser, "h1.summary").text


def facet_link(browser, facet: str, label: str):
    from selenium.webdriver.common.by import By

    for link in css(browser, f".facet-{facet} a"):
        if link.find_element(By.CSS_SELECTOR, ".facet-label").text == label:
            return link
    raise AssertionError(f"no {facet} facet {label!r} among {[a.text for a in css(browser, 'a')]}")


def test_a_facet_narrows_the_url_and_the_results_and_its_chip_drops_it(narrow_page):
    browser = narrow_page("/?q=" + quote("梅雨"))
    assert summary(browser) == "「梅雨」に一致する段落: 7件（1–7件目を表示）"
    folder = facet_link(browser, "folder", "報告書/")
    assert folder.find_element("css selector", ".count").text == "4"
    folder.click()
    assert summary(browser) == "「梅雨」に一致する段落: 4件（1–4件目を表示）"
    assert parameters(browser) == {"q": ["梅雨"], "path": ["報告書"]}
    assert {hit.text.split(":")[0] for hit in css(browser, "li.hit .cite")} == {
        "報告書/2024/a.txt",
        "報告書/2023/b.txt",
        "報告書/e.docx",
    }
    # The next level of folders, once one is chosen; then a year.
    assert [a.text.split()[0] for a in css(browser, ".facet-folder a")] == ["2024/", "2023/"]
    facet_link(browser, "year", "2024年").click()
    assert summary(browser) == "「梅雨」に一致する段落: 2件（1–2件目を表示）"
    assert parameters(browser) == {
        "q": ["梅雨"],
        "path": ["報告書"],
        "after": ["2024"],
        "before": ["2025"],
    }
    screenshot(browser, "narrowed-desktop")
    # A new search keeps the filters chosen; a chip drops its own.
    search_for(browser, "統合")
    assert summary(browser) == "「統合」に一致する段落: 1件（1–1件目を表示）"
    chips = css(browser, ".chosen a")
    assert [chip.text.split(" ×")[0] for chip in chips] == ["場所: 報告書", "日付: 2024年"]
    chips[1].click()
    assert summary(browser) == "「統合」に一致する段落: 3件（1–3件目を表示）"
    assert parameters(browser) == {"q": ["統合"], "path": ["報告書"]}


def test_the_order_changes_to_newest_first_by_a_link(narrow_page):
    browser = narrow_page("/?q=" + quote("梅雨") + "&format=text&format=markdown")
    assert summary(browser) == "「梅雨」に一致する段落: 5件（1–5件目を表示）"
    next(a for a in css(browser, ".sorts a") if a.text == "新しい順").click()
    wait_for(browser, ".sort.current")
    assert css(browser, ".sort.current")[0].text == "新しい順"
    assert parameters(browser)["sort"] == ["date"]
    dates = [time.text for time in css(browser, "li.hit time")]
    assert dates == ["2024-03-01", "2024-03-01", "2023-06-15", "2022-01-10", "2022-01-10"]


def test_typing_offers_suggestions_and_picking_one_searches_for_it(narrow_page):
    from selenium.webdriver.common.keys import Keys
    from selenium.webdriver.support.ui import WebDriverWait

    browser = narrow_page("/")
    box = wait_for(browser, "#q")
    box.send_keys("とうご")
    first = wait_for(browser, "#suggestions li")
    options = css(browser, "#suggestions li")
    assert [option.find_element("css selector", ".text").text for option in options] == [
        "統合",
        "統合作戦司令部",
    ]
    assert box.get_attribute("aria-expanded") == "true"
    assert first.find_element("css selector", ".count").text == "3件"
    screenshot(browser, "suggestions-desktop")
    box.send_keys(Keys.ARROW_DOWN, Keys.ARROW_DOWN)
    assert options[1].get_attribute("aria-selected") == "true"
    box.send_keys(Keys.ENTER)
    WebDriverWait(browser, 20).until(lambda b: "q=" in b.current_url)
    assert summary(browser) == "「統合作戦司令部」に一致する段落: 2件（1–2件目を表示）"
    # A click on a suggestion completes the last word typed and searches.
    box = wait_for(browser, "#q")
    box.clear()
    box.send_keys("報告 つゆ")
    wait_for(browser, "#suggestions li").click()
    WebDriverWait(browser, 20).until(lambda b: parameters(b).get("q") == ["報告 梅雨"])
    assert summary(browser).startswith("「報告 梅雨」の語をすべて含む段落: ")
