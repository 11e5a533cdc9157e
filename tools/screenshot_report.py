"""Run a backtest into a temporary folder and screenshot its report.html, for people reviewing report changes.

    .venv/bin/python tools/screenshot_report.py                       # full page -> report.png
    .venv/bin/python tools/screenshot_report.py --out docs/report.png --height 1500
    .venv/bin/python tools/screenshot_report.py --report logs/<run>/report.html   # an existing page

Drives the system chromium (Debian: ``apt-get install chromium``) through
playwright; no browser is downloaded. Every request that is not file: or
data: is refused, so the picture shows what opens offline.
"""
from __future__ import annotations

import argparse
import subprocess
import sys
import tempfile
from pathlib import Path

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                 "--disable-background-networking", "--disable-component-update", "--disable-sync"]


def run_backtest(folder: Path, extra: list[str]) -> Path:
    command = [sys.executable, "-m", "runner", "backtest", "--out", str(folder), *extra]
    done = subprocess.run(command, capture_output=True, text=True)
    if done.returncode != 0:
        sys.stderr.write(done.stdout + done.stderr)
        raise SystemExit(f"flowbot backtest failed (exit {done.returncode})")
    return folder / "report.html"


def screenshot(report: Path, out: Path, width: int, height: int | None) -> list[str]:
    """Write the PNG; return the URLs of any requests that were refused (none for a self-contained page)."""
    from playwright.sync_api import sync_playwright

    refused: list[str] = []

    def guard(route):
        url = route.request.url
        if url.startswith(("file:", "data:")):
            route.continue_()
        else:
            refused.append(url)
            route.abort()

    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS, headless=True)
        try:
            page = browser.new_page(viewport={"width": width, "height": height or 900}, device_scale_factor=1)
            page.route("**/*", guard)
            page.goto(report.resolve().as_uri(), wait_until="load")
            page.screenshot(path=str(out), full_page=height is None)
        finally:
            browser.close()
    return refused


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, default=Path("report.png"), help="PNG to write (default report.png)")
    parser.add_argument("--report", type=Path, help="screenshot this report.html instead of running a backtest")
    parser.add_argument("--width", type=int, default=1280)
    parser.add_argument("--height", type=int, help="viewport height; without it the whole page")
    parser.add_argument("backtest_args", nargs="*", help="extra arguments for flowbot backtest (after --)")
    args = parser.parse_args(argv)
    if not Path(CHROMIUM).exists():
        print(f"{CHROMIUM} not found: install it with `apt-get install -y chromium`", file=sys.stderr)
        return 2
    with tempfile.TemporaryDirectory() as tmp:
        report = args.report or run_backtest(Path(tmp) / "run", args.backtest_args)
        refused = screenshot(report, args.out, args.width, args.height)
    print(f"wrote {args.out}" + (f"; refused {len(refused)} network requests: {refused[:3]}" if refused else ""))
    return 1 if refused else 0


if __name__ == "__main__":
    sys.exit(main())
