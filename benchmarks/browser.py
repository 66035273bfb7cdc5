"""Headless Chromium for looking at report.html as a person would, offline.

Debian's `chromium` and `chromium-driver` packages (host setup installs both), driven by
Selenium with both paths given, so Selenium Manager never looks anything up or
downloads a driver. Used by the report benchmark and by the harness's browser tests.
"""

from __future__ import annotations

import contextlib
import importlib.util
import os
import subprocess
import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from selenium.webdriver.remote.webdriver import WebDriver

CHROMIUM = "/usr/bin/chromium"
CHROMEDRIVER = "/usr/bin/chromedriver"
#: Debian package -> the file it brings that we run
PACKAGES = {"chromium": CHROMIUM, "chromium-driver": CHROMEDRIVER}
FLAGS = [
    "--headless=new",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]
#: seconds a page may take to load, and a script to run, before Selenium gives up
PAGE_LOAD_TIMEOUT = 120
#: Chromium cannot paint a page taller than this (pixels) in one screenshot
MAX_SCREENSHOT_HEIGHT = 16384


def unavailable() -> str | None:
    """Why headless Chromium cannot run here (naming what to install), or None."""
    missing = [pkg for pkg, path in PACKAGES.items() if not os.access(path, os.X_OK)]
    if missing:
        return (
            f"headless Chromium needs the Debian package(s) {', '.join(missing)} "
            f"(missing {', '.join(PACKAGES[p] for p in missing)}; ./ocitest setup installs them)"
        )
    if importlib.util.find_spec("selenium") is None:
        return "headless Chromium needs the Python package selenium (the dev extra)"
    return None


@contextlib.contextmanager
def headless_chromium(width: int = 1280, height: int = 1000) -> Iterator[WebDriver]:
    """A Selenium driver of a fresh headless Chromium (its own temporary profile), with a
    window of `width` x `height` pixels; the browser and chromedriver are stopped and the
    profile removed on exit. The page's console messages are kept for
    `driver.get_log("browser")`. Raises selenium.common.WebDriverException if it cannot start.
    """
    from selenium import webdriver
    from selenium.webdriver.chrome.options import Options
    from selenium.webdriver.chrome.service import Service

    with tempfile.TemporaryDirectory(
        prefix="ocitest-chromium-", ignore_cleanup_errors=True
    ) as profile:
        options = Options()
        options.binary_location = CHROMIUM
        options.set_capability("goog:loggingPrefs", {"browser": "ALL"})  # console messages
        for flag in [*FLAGS, f"--user-data-dir={profile}", f"--window-size={width},{height}"]:
            options.add_argument(flag)
        service = Service(executable_path=CHROMEDRIVER, log_output=subprocess.DEVNULL)
        driver = webdriver.Chrome(service=service, options=options)
        try:
            driver.set_page_load_timeout(PAGE_LOAD_TIMEOUT)
            driver.set_script_timeout(PAGE_LOAD_TIMEOUT)
            yield driver
        finally:
            driver.quit()


def file_url(path: Path) -> str:
    return Path(path).resolve().as_uri()


def full_page_screenshot(driver: WebDriver, out: Path, width: int = 1280) -> tuple[int, int]:
    """Resize the window so that its viewport holds the whole page (at most
    MAX_SCREENSHOT_HEIGHT pixels tall) and save a PNG at `out`; return the window size
    used, (width, height) in pixels."""
    page_and_frame = """return [
        Math.max(document.documentElement.scrollHeight, document.body.scrollHeight),
        window.outerHeight - window.innerHeight]"""
    height, frame = driver.execute_script(page_and_frame)
    size = (width, min(int(height) + max(int(frame), 0), MAX_SCREENSHOT_HEIGHT))
    driver.set_window_size(*size)
    if not driver.get_screenshot_as_file(str(out)):
        raise OSError(f"cannot write the screenshot {out}")
    return size
