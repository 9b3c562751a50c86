"""`personseg serve` in a real headless browser: Debian's chromium driven by Selenium through
Debian's chromedriver (nothing is downloaded). The server is the real command in a subprocess
(the packaged model, waitress, the default 127.0.0.1 binding).

A photo is uploaded, the cut-out appears and has transparent pixels (checked in the browser's
own canvas), the background control works, a broken file shows its error on the page, and a
screenshot is taken. `PERSONSEG_SCREENSHOT=assets/serve.png` also keeps it there: that is the
README's picture (`scripts/serve_screenshot.py`).
"""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import sys
import time
from pathlib import Path

import cv2
import pytest
import requests

from personseg.files import write_image
from personseg.inference.sample_photos import sample_images
from tests.browser import chromium, require_chromium, wait_for

REPO = Path(__file__).resolve().parents[1]

pytestmark = pytest.mark.slow


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture(scope="module")
def server():
    """`personseg serve` on a free port (default host), until the module's tests are done."""
    require_chromium()
    port = free_port()
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(REPO), os.environ.get("PYTHONPATH", "")])}
    process = subprocess.Popen([sys.executable, "-m", "personseg", "serve", "--port", str(port)],
                               stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, env=env)
    url = f"http://127.0.0.1:{port}/"
    try:
        deadline = time.monotonic() + 120
        while True:
            try:
                if requests.get(url + "v1/health", timeout=2).ok:
                    break
            except requests.ConnectionError:
                pass
            if process.poll() is not None or time.monotonic() > deadline:
                pytest.fail(f"personseg serve did not start:\n{process.stdout.read()}")
            time.sleep(0.5)
        yield url
    finally:
        process.terminate()
        try:
            process.wait(timeout=20)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()
        process.stdout.close()


@pytest.fixture(scope="module")
def browser():
    with chromium() as driver:
        yield driver


COUNT_ALPHA = """
const img = document.getElementById(arguments[0]);
const canvas = document.createElement("canvas");
canvas.width = img.naturalWidth; canvas.height = img.naturalHeight;
const ctx = canvas.getContext("2d");
ctx.drawImage(img, 0, 0);
const data = ctx.getImageData(0, 0, canvas.width, canvas.height).data;
let clear = 0, partial = 0, opaque = 0;
for (let i = 3; i < data.length; i += 4) {
  if (data[i] === 0) clear++; else if (data[i] === 255) opaque++; else partial++;
}
return [canvas.width, canvas.height, clear, partial, opaque];
"""


def test_upload_a_photo_see_the_cutout_then_a_broken_file(server, browser, tmp_path):
    from selenium.webdriver.common.by import By
    from selenium.webdriver.support.ui import Select

    photo = tmp_path / "grace_hopper.jpg"
    write_image(photo, sample_images()["grace_hopper"])
    browser.get(server)
    assert browser.title == "personseg"
    assert not browser.find_element(By.ID, "results").is_displayed()

    browser.find_element(By.ID, "file").send_keys(str(photo))
    wait_for(browser, lambda d: d.find_element(By.TAG_NAME, "body").get_attribute("data-done") == "1")
    cutout = browser.find_element(By.ID, "cutout")
    assert cutout.is_displayed()
    width, height, clear, partial, opaque = browser.execute_script(COUNT_ALPHA, "cutout")
    assert (width, height) == (512, 600)
    assert clear > 0.1 * width * height and opaque > 0.1 * width * height  # transparent background
    assert partial > 100  # refined, soft edges
    download = browser.find_element(By.ID, "download")
    assert download.get_attribute("download") == "grace_hopper_cutout.png"
    assert download.get_attribute("href").startswith("data:image/png;base64,")
    for panel in ("photo", "mask", "overlay", "background"):
        assert browser.execute_script(f"return document.getElementById('{panel}').naturalWidth") == 512
    assert "blurred" in browser.find_element(By.ID, "background-caption").text

    Select(browser.find_element(By.ID, "mode")).select_by_value("replace")  # → a second request
    wait_for(browser, lambda d: d.find_element(By.TAG_NAME, "body").get_attribute("data-done") == "2")
    assert "replaced" in browser.find_element(By.ID, "background-caption").text
    shot = tmp_path / "serve.png"
    assert browser.save_screenshot(str(shot))
    picture = cv2.imread(str(shot))
    assert picture is not None and picture.shape[1] >= 1200 and picture.std() > 20
    if os.environ.get("PERSONSEG_SCREENSHOT"):
        shutil.copyfile(shot, os.environ["PERSONSEG_SCREENSHOT"])

    broken = tmp_path / "broken.jpg"
    broken.write_bytes(b"this is not a photo\n" * 20)
    browser.find_element(By.ID, "file").send_keys(str(broken))
    error = wait_for(browser, lambda d: d.find_element(By.ID, "error") if d.find_element(
        By.ID, "error").is_displayed() else False)
    assert "broken.jpg: not an image" in error.text
    assert not browser.find_element(By.ID, "results").is_displayed()


def test_the_server_listens_on_loopback_only_by_default(server):
    """The kernel's table of listening sockets: the port is bound to 127.0.0.1 and nothing else."""
    port = int(server.rstrip("/").rsplit(":", 1)[1])
    table = Path("/proc/net/tcp")
    if not table.is_file():
        pytest.skip("no /proc/net/tcp to read listening sockets from (not Linux)")
    listening = []
    for path in (table, Path("/proc/net/tcp6")):
        for line in path.read_text().splitlines()[1:] if path.is_file() else []:
            local, state = line.split()[1], line.split()[3]
            address, hex_port = local.rsplit(":", 1)
            if int(hex_port, 16) == port and state == "0A":  # 0A: LISTEN
                listening.append(address)
    assert listening == ["0100007F"]  # 127.0.0.1, little-endian hex; no 0.0.0.0, no IPv6
