"""The reports page in Chromium: its charts are drawn, it is axe-clean in English and Chinese, and fits a phone."""
from __future__ import annotations

import pytest
from playwright.sync_api import Page, expect

from harness.browser import DESKTOP, log_in

from ..report_history import seed_history
from .test_accessibility import assert_accessible

pytestmark = pytest.mark.browser

REPORT = "/support/reports?start=2026-11-02&end=2026-11-04"
PHONE_375 = {"width": 375, "height": 740}
CHARTS = ("chart-days", "chart-hours", "chart-ratings")

# How many of a canvas's pixels are painted (not transparent): a chart that drew its bars has many.
PAINTED = """id => {
  const canvas = document.getElementById(id);
  const pixels = canvas.getContext("2d").getImageData(0, 0, canvas.width, canvas.height).data;
  let painted = 0;
  for (let i = 3; i < pixels.length; i += 4) if (pixels[i] > 0) painted += 1;
  return { painted, hasChart: Boolean(canvas.chart), width: canvas.width };
}"""


@pytest.fixture
def report_server(live_server):
    seed_history(live_server.app(), origin=live_server.url)
    live_server.start()
    return live_server


def expect_charts_drawn(page: Page) -> None:
    for chart in CHARTS:
        expect(page.locator(f"#{chart}")).to_have_attribute("data-drawn", "true")
        drawn = page.evaluate(PAINTED, chart)
        assert drawn["hasChart"] and drawn["width"] > 0 and drawn["painted"] > 500, (chart, drawn)


@pytest.mark.parametrize("color_scheme", ["light", "dark"])
def test_the_report_in_english_draws_its_charts_and_is_accessible(report_server, contexts, color_scheme):
    page = contexts.new(viewport=DESKTOP, color_scheme=color_scheme)
    log_in(page, report_server.url, "admin", next_path=REPORT)
    expect(page.get_by_role("heading", name="Reports", exact=True)).to_be_visible()
    expect(page.locator("[data-metric=opened]")).to_have_text("8")
    expect(page.get_by_role("table", name="Opened and resolved per day")).to_be_visible()
    expect_charts_drawn(page)
    assert_accessible(page, f"the reports page ({color_scheme})")


def test_the_report_in_chinese(report_server, contexts):
    page = contexts.new(viewport=DESKTOP)
    log_in(page, report_server.url, "lead_e", next_path=REPORT + "&time=business")
    page.set_extra_http_headers({"Accept-Language": "zh-CN"})  # the reader's browser speaks Chinese
    page.reload()
    expect(page.get_by_role("heading", name="报表", exact=True)).to_be_visible()
    expect(page.locator("[data-metric=first-response-median]")).to_have_text("10 分钟")
    expect(page.get_by_role("table", name="每天新开和已解决的对话")).to_be_visible()
    expect_charts_drawn(page)
    assert_accessible(page, "the reports page in Chinese")


def test_the_report_fits_a_phone_and_works_by_keyboard(report_server, contexts):
    page = contexts.new(viewport=PHONE_375)
    log_in(page, report_server.url, "admin", next_path=REPORT)
    expect_charts_drawn(page)
    # Nothing but the tables' own scrolling boxes is wider than the phone.
    assert page.evaluate("() => document.documentElement.scrollWidth") <= PHONE_375["width"]
    assert_accessible(page, "the reports page on a phone")
    site = page.get_by_label("Site", exact=True)
    site.focus()
    site.select_option(label="Berlin shop")
    page.keyboard.press("Tab")  # the team
    page.get_by_role("button", name="Show report").focus()
    page.keyboard.press("Enter")
    expect(page.locator("[data-metric=opened]")).to_have_text("4")
    expect_charts_drawn(page)
