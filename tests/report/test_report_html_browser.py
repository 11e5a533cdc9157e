"""report.html in a real headless browser (Debian's chromium through playwright; no browser download).

The page renders, nothing overflows a 1280 px viewport (wide tables scroll inside their own box), every
image decodes, and opening it makes no network request.
"""
import shutil
from pathlib import Path

import pytest

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                 "--disable-background-networking", "--disable-component-update", "--disable-sync"]
WIDTH = 1280

sync_api = pytest.importorskip("playwright.sync_api", reason="playwright is not installed (pip install -e '.[dev]')")
if not Path(CHROMIUM).exists():
    pytest.skip(f"no chromium at {CHROMIUM} (apt-get install -y chromium)", allow_module_level=True)

# For every element: the nearest ancestor that scrolls or clips horizontally; an element may extend past
# the viewport only inside such a box, and such a box itself must fit.
OVERFLOWING = """
() => {
  const width = document.documentElement.clientWidth;
  const clipper = (el) => {
    for (let p = el.parentElement; p && p !== document.body; p = p.parentElement) {
      const o = getComputedStyle(p).overflowX;
      if (o === 'auto' || o === 'scroll' || o === 'hidden') return p;
    }
    return null;
  };
  const bad = [];
  for (const el of document.body.querySelectorAll('*')) {
    const r = el.getBoundingClientRect();
    if (r.width === 0 && r.height === 0) continue;
    const box = clipper(el);
    const limit = box ? box.getBoundingClientRect().right : width;
    if (!box && r.right > width + 1) bad.push(el.tagName + '.' + el.className + ' right=' + r.right);
    if (box && box.getBoundingClientRect().right > width + 1) bad.push('scroll box ' + box.className);
  }
  return bad.slice(0, 10);
}
"""


@pytest.fixture(scope="module")
def browser():
    with sync_api.sync_playwright() as p:
        launched = p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS, headless=True)
        try:
            yield launched
        finally:
            launched.close()


def open_page(browser, report: Path):
    """The loaded page and the list of requests that were refused (anything not file: or data:)."""
    refused, seen = [], []
    page = browser.new_page(viewport={"width": WIDTH, "height": 900})

    def guard(route):
        url = route.request.url
        seen.append(url)
        if url.startswith(("file:", "data:")):
            route.continue_()
        else:
            refused.append(url)
            route.abort()

    page.route("**/*", guard)
    page.on("request", lambda request: seen.append(request.url))
    page.goto(report.resolve().as_uri(), wait_until="load")
    return page, refused, seen


@pytest.fixture(scope="module")
def loaded(browser, default_run):
    page, refused, seen = open_page(browser, default_run[2] / "report.html")
    yield page, refused, seen
    page.close()


def test_the_page_renders_its_cards_and_charts(loaded):
    page, _, _ = loaded
    assert page.title() == "flowbot backtest: year-end-daily"
    assert page.locator("section.card").count() == 3
    assert page.locator("section.card .badge.synthetic").is_visible()
    images = page.evaluate("() => [...document.images].map(i => [i.complete, i.naturalWidth])")
    # equity, drawdown, exposure, one sheet of trade charts per playbook, the return distribution
    assert len(images) == 7 and all(done and width > 0 for done, width in images)


def test_nothing_overflows_the_viewport_at_1280_px(loaded):
    page, _, _ = loaded
    assert page.evaluate("document.documentElement.scrollWidth") <= WIDTH
    assert page.evaluate(OVERFLOWING) == []


def test_opening_the_report_makes_no_network_request(loaded):
    page, refused, seen = loaded
    assert refused == []
    assert seen and all(url.startswith(("file:", "data:")) for url in seen)


def test_a_wide_table_scrolls_inside_its_box_at_a_narrow_width(browser, default_run, tmp_path):
    report = tmp_path / "report.html"
    shutil.copy(default_run[2] / "report.html", report)
    page, refused, _ = open_page(browser, report)
    try:
        page.set_viewport_size({"width": 700, "height": 900})
        assert page.evaluate("document.documentElement.scrollWidth") <= 700
        assert page.evaluate(OVERFLOWING) == []
        scrolls = page.evaluate("() => [...document.querySelectorAll('.scroll')]"
                                ".filter(b => b.scrollWidth > b.clientWidth).length")
        assert scrolls >= 1   # the trades table is wider than 700 px and scrolls in its own box
    finally:
        page.close()
    assert refused == []
