"""A fake images.cocodataset.org on 127.0.0.1 for the download tests: a tiny annotation archive and
a few generated JPEGs, with scripted misbehaviour per path (nothing here reaches the internet).

Photos of val2017 (width × height, what the server does):
  000000000001.jpg  40×30  person   served fine
  000000000002.jpg  32×24  person   the first response drops the connection half-way
  000000000003.jpg  20×20  person   always bytes that do not decode
  000000000004.jpg  24×16  person   always a JPEG of the wrong size (10×10)
  000000000005.jpg  16×16  dog      served fine (only wanted without --person-only)
  000000000006.jpg  36×28  person   the first response is garbage, the second fine
  000000000007.jpg  16×12  person   not on the server (404)
"""

from __future__ import annotations

import io
import json
import threading
import zipfile
from collections import Counter
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import cv2
import numpy as np

PERSON, DOG = 1, 18
ARCHIVE_PATH = "/annotations/annotations_trainval2017.zip"
PHOTOS = {  # id: (width, height, category, behaviour of successive requests; the last repeats)
    1: (40, 30, PERSON, ["ok"]),
    2: (32, 24, PERSON, ["drop", "ok"]),
    3: (20, 20, PERSON, ["garbage"]),
    4: (24, 16, PERSON, ["small"]),
    5: (16, 16, DOG, ["ok"]),
    6: (36, 28, PERSON, ["garbage", "ok"]),
    7: (16, 12, PERSON, ["missing"]),
}
GOOD_PERSON_PHOTOS = [f"{i:012d}.jpg" for i in (1, 2, 6)]


def jpeg(width: int, height: int, seed: int = 0) -> bytes:
    rng = np.random.default_rng(seed)
    image = rng.integers(0, 255, (height, width, 3), dtype=np.uint8)
    ok, data = cv2.imencode(".jpg", image)
    assert ok
    return data.tobytes()


def instances(split: str) -> dict:
    images, annotations = [], []
    for i, (w, h, category, _) in PHOTOS.items():
        name = f"{i:012d}.jpg"
        images.append({"id": i, "file_name": name, "width": w, "height": h, "license": 1,
                       "coco_url": f"http://images.cocodataset.org/{split}/{name}"})
        annotations.append({"id": 100 + i, "image_id": i, "category_id": category, "iscrowd": 0,
                            "area": 16.0, "bbox": [1, 1, 4, 4], "segmentation": [[1, 1, 5, 1, 5, 5, 1, 5]]})
    categories = [{"id": PERSON, "name": "person", "supercategory": "person"},
                  {"id": DOG, "name": "dog", "supercategory": "animal"}]
    return {"info": {"description": "fake COCO"}, "licenses": [{"id": 1, "name": "test"}],
            "images": images, "annotations": annotations, "categories": categories}


def archive() -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as zf:
        for split in ("train2017", "val2017"):
            zf.writestr(f"annotations/instances_{split}.json", json.dumps(instances(split)))
        zf.writestr("annotations/captions_val2017.json", "{}")
    return buffer.getvalue()


def corrupt(archive_bytes: bytes) -> bytes:
    """The archive with one byte of the val2017 member's compressed data changed: the same
    length and a valid directory, but the member fails its CRC (or does not inflate)."""
    with zipfile.ZipFile(io.BytesIO(archive_bytes)) as zf:
        info = zf.getinfo("annotations/instances_val2017.json")
    start = info.header_offset + 30 + len(info.filename.encode()) + len(info.extra)
    data = bytearray(archive_bytes)
    data[start + info.compress_size // 2] ^= 0x55
    return bytes(data)


class FakeCoco:
    """The server's content and script, and a count of requests per path."""

    def __init__(self, archive_script: list[str] | None = None):
        self.files: dict[str, bytes] = {ARCHIVE_PATH: archive()}
        self.script: dict[str, list[str]] = {ARCHIVE_PATH: archive_script or ["ok"]}
        for split in ("train2017", "val2017"):
            for i, (w, h, _, behaviour) in PHOTOS.items():
                path = f"/{split}/{i:012d}.jpg"
                self.files[path] = jpeg(w, h, seed=i)
                self.script[path] = list(behaviour)
        self.requests: Counter[str] = Counter()
        self.lock = threading.Lock()

    def action(self, path: str) -> str:
        with self.lock:
            self.requests[path] += 1
            script = self.script.get(path, ["missing"])
            return script[min(self.requests[path], len(script)) - 1]


def _handler(fake: FakeCoco) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def log_message(self, *args) -> None:  # keep test output clean
            pass

        def do_GET(self) -> None:
            action = fake.action(self.path)
            if action == "missing" or self.path not in fake.files:
                self.send_error(404)
                return
            body = {"garbage": b"\xff\xd8 this is not a JPEG " * 20, "small": jpeg(10, 10)}.get(
                action, fake.files[self.path])
            if action == "corrupt":
                body = corrupt(body)
            self.send_response(200)
            self.send_header("Content-Type", "application/octet-stream")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            if action == "drop":  # half the promised body, then the connection goes away
                self.wfile.write(body[: len(body) // 2])
                self.wfile.flush()
                self.close_connection = True
                return
            self.wfile.write(body)

    return Handler


class Server:
    """`with Server(fake) as url:` serves `fake` on 127.0.0.1 at a free port."""

    def __init__(self, fake: FakeCoco):
        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), _handler(fake))
        self.httpd.daemon_threads = True
        self.url = f"http://127.0.0.1:{self.httpd.server_address[1]}"

    def __enter__(self) -> str:
        threading.Thread(target=self.httpd.serve_forever, daemon=True).start()
        return self.url

    def __exit__(self, *exc) -> None:
        self.httpd.shutdown()
        self.httpd.server_close()
