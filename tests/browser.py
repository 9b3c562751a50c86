"""Headless Chromium for tests: Debian's chromium driven by Selenium through Debian's
chromedriver, so nothing is downloaded. Absent: the test skips with the reason, except under
CI=true, where it fails (CI must run it; .ci/run installs both packages)."""

from __future__ import annotations

import os
import shutil
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest

CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"
CHROMEDRIVER = shutil.which("chromedriver") or "/usr/bin/chromedriver"


def require_chromium() -> None:
    missing = [p for p in (CHROMIUM, CHROMEDRIVER) if not Path(p).is_file()]
    if not missing:
        return
    reason = (f"{', '.join(missing)} absent: install Debian's chromium and chromium-driver "
              "(apt-get install -y chromium chromium-driver; .ci/run does)")
    if os.environ.get("CI"):
        pytest.fail(f"CI must run the browser tests: {reason}")
    pytest.skip(reason)


@contextmanager
def chromium(width: int = 1400, height: int = 760) -> Iterator:
    """A headless Chromium WebDriver, quit on exit."""
    require_chromium()
    os.environ.setdefault("SE_OFFLINE", "true")  # Selenium Manager must never fetch a browser
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service

    options = webdriver.ChromeOptions()
    options.binary_location = CHROMIUM
    for arg in ("--headless=new", "--no-sandbox", "--disable-dev-shm-usage", "--disable-gpu",
                f"--window-size={width},{height}", "--hide-scrollbars",
                "--autoplay-policy=no-user-gesture-required"):
        options.add_argument(arg)
    driver = webdriver.Chrome(options=options, service=Service(executable_path=CHROMEDRIVER))
    try:
        yield driver
    finally:
        driver.quit()


def wait_for(driver, condition, timeout: float = 90.0):
    from selenium.webdriver.support.ui import WebDriverWait

    return WebDriverWait(driver, timeout).until(condition)
