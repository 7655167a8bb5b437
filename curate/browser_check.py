"""Open an HTML report in headless Chromium and say whether it reads: every chart drawn, no console error, nothing
fetched from the network; optionally a screenshot. Used by the tests of `curate report --html` and
`license-registry audit --format html`, and by docs/images/make_screenshots.py.

Chromium is the distribution's package (`apt-get install chromium`); playwright (the `dev` extra) only drives it
and never downloads a browser of its own here.
"""

from __future__ import annotations

import os
import shutil
from dataclasses import dataclass, field

CHROMIUM_NAMES = ("chromium", "chromium-browser", "google-chrome", "google-chrome-stable")

# per chart (figure.chart > svg): its size, and the union of the boxes of its data marks (Vega's `role-mark`
# groups: bars, rects, rules, text), so that a chart with axes but no drawn data does not pass
_MEASURE_CHARTS = """
() => [...document.querySelectorAll('figure.chart svg')].map(svg => {
  const box = svg.getBBox();
  let marks = 0, markArea = 0;
  for (const g of svg.querySelectorAll('g.role-mark')) {
    for (const el of g.children) {
      const b = el.getBBox();
      if (b.width > 0 || b.height > 0) { marks += 1; markArea += Math.max(b.width, 1) * Math.max(b.height, 1); }
    }
  }
  return {width: box.width, height: box.height, marks: marks, mark_area: markArea};
})
"""


@dataclass
class PageCheck:
    charts: list[dict] = field(default_factory=list)  # {width, height, marks, mark_area} per chart
    console_errors: list[str] = field(default_factory=list)
    network_requests: list[str] = field(default_factory=list)  # anything but the file itself
    title: str = ""

    @property
    def blank_charts(self) -> list[int]:
        """Indexes of charts that drew nothing (an empty box, or no data mark)."""
        return [i for i, c in enumerate(self.charts) if not (c["width"] > 0 and c["height"] > 0 and c["marks"] > 0)]


def find_chromium() -> str | None:
    for name in CHROMIUM_NAMES:
        path = shutil.which(name)
        if path:
            return path
    return None


def check_page(html_path: str, screenshot: str | None = None, width: int = 1280, height: int = 900,
               full_page: bool = True, clip_height: int | None = None) -> PageCheck:
    """Load `html_path` in headless Chromium and measure its charts; write a PNG to `screenshot` (the full page,
    or its top `clip_height` pixels)."""
    from playwright.sync_api import sync_playwright

    chromium = find_chromium()
    if chromium is None:
        raise RuntimeError("no Chromium found (apt-get install chromium)")
    url = "file://" + os.path.abspath(html_path)
    result = PageCheck()
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=chromium, args=["--no-sandbox", "--disable-gpu"])
        try:
            page = browser.new_page(viewport={"width": width, "height": height})
            page.on("console", lambda m: result.console_errors.append(m.text) if m.type == "error" else None)
            page.on("pageerror", lambda e: result.console_errors.append(str(e)))
            page.on("request", lambda r: result.network_requests.append(r.url) if r.url != url else None)
            page.goto(url, wait_until="load")
            result.title = page.title()
            result.charts = page.evaluate(_MEASURE_CHARTS)
            if screenshot:
                clip = {"x": 0, "y": 0, "width": width, "height": clip_height} if clip_height else None
                page.screenshot(path=screenshot, full_page=full_page or clip is not None, clip=clip)
        finally:
            browser.close()
    return result
