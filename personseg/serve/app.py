"""The Flask app of `personseg serve`: the page and `POST /v1/segment` over one shared Segmenter.

    POST /v1/segment   multipart field `image` (or the raw image as the request body)
        edges=sharp|soft|refined  threshold=0.5  background=COLOUR  blur_strength=0.03
        (optional multipart field `background_image`: a photo to put behind the person)
        format=json (default): {"width", "height", "person_fraction", "seconds",
                                "images": {"mask", "overlay", "cutout", "blur", "replace"}}
                               each a data: URL in its kind's format (render.KINDS)
        format=png&kind=cutout: that one picture as image/png (kind: any of render.KINDS)
    GET /v1/health     {"status": "ok", "model": ..., "framing": "square"|"fit"}

Failures are JSON `{"error": "<what>: <problem>"}` with a 4xx status: 400 for a missing file,
a non-image or a bad option, 413 for an upload over the byte or pixel limit; 503 when the
request's time budget runs out or the server has no room for its pixels in time (`budget`).
"""

from __future__ import annotations

import base64
import threading
import time
from importlib import resources

import numpy as np
from flask import Flask, Response, jsonify, request
from werkzeug.exceptions import HTTPException, RequestEntityTooLarge

from personseg.errors import OptionError
from personseg.files import encode_image
from personseg.inference.render import DEFAULT_BACKGROUND, KINDS, Look, parse_colour, render_all
from personseg.serve.budget import DEFAULT_SECONDS, Budget
from personseg.serve.uploads import MAX_PIXELS, MAX_UPLOAD_BYTES, Rejected, decode_upload

PAGE_KINDS = ("mask", "overlay", "cutout", "blur", "replace")  # what the page shows (of render.KINDS)
JPEG_QUALITY = 90  # data URLs: small enough to send, no visible loss


def data_url(picture: np.ndarray, kind: str) -> str:
    """A picture as a data: URL in its kind's format (`render.KINDS`: PNG or JPEG)."""
    suffix = KINDS[kind].suffix
    mime = "image/png" if suffix == ".png" else "image/jpeg"
    encoded = base64.b64encode(encode_image(picture, suffix, JPEG_QUALITY)).decode("ascii")
    return f"data:{mime};base64,{encoded}"


def _look(form, background_image: np.ndarray | None, defaults: Look) -> Look:
    """The request's options over the server's defaults; a colour or an uploaded photo only
    (never a path on the server)."""
    def number(name: str, default: float) -> float:
        text = form.get(name)
        if text in (None, ""):
            return default
        try:
            return float(text)
        except ValueError:
            raise OptionError(name, text, "must be a number") from None

    background = form.get("background") or None
    if background is not None and parse_colour(background) is None:
        raise OptionError("background", background, "must be a colour (name, #rrggbb or R,G,B)")
    if background_image is not None:
        background = background_image
    return Look(threshold=number("threshold", defaults.threshold),
                edges=form.get("edges") or defaults.edges,
                background=defaults.background if background is None else background,
                blur_strength=number("blur_strength", defaults.blur_strength))


def create_app(seg, look: Look | None = None, max_bytes: int = MAX_UPLOAD_BYTES,
               max_pixels: int = MAX_PIXELS, model_name: str = "",
               seconds: float = DEFAULT_SECONDS) -> Flask:
    """The app over `seg` (loaded once by the caller, shared by every request; calls into it are
    serialised). `look` holds the defaults a request may override; each request gets `seconds`
    and the requests in progress share `max_pixels` (`budget.Budget`)."""
    defaults = look or Look(background=DEFAULT_BACKGROUND)
    app = Flask(__name__, static_folder=None)
    app.config["MAX_CONTENT_LENGTH"] = max_bytes
    model_lock = threading.Lock()
    budget = Budget(max_pixels, seconds)
    page = (resources.files("personseg.serve") / "static" / "index.html").read_text(encoding="utf-8")

    def fail(status: int, message: str):
        return jsonify(error=message), status

    @app.errorhandler(Rejected)
    def rejected(exc: Rejected):
        return fail(exc.status, exc.message)

    @app.errorhandler(OptionError)
    def bad_option(exc: OptionError):
        return fail(400, f"{exc.option} {exc.value}: {exc.problem}")

    @app.errorhandler(RequestEntityTooLarge)
    def too_large(exc):
        return fail(413, f"upload: larger than the limit of {max_bytes / 1024 / 1024:.0f} MB")

    @app.errorhandler(HTTPException)
    def http_error(exc: HTTPException):
        return fail(exc.code or 500, f"{request.path}: {exc.description}")

    @app.get("/")
    def index():
        return Response(page.replace("{{MAX_MB}}", f"{max_bytes / 1024 / 1024:.0f}"), mimetype="text/html")

    @app.get("/v1/health")
    def health():
        return jsonify(status="ok", model=model_name, framing=getattr(seg, "framing", None))

    @app.post("/v1/segment")
    def segment():
        deadline = budget.deadline()
        upload = request.files.get("image")
        if upload is not None:
            rgb = decode_upload(upload.read(), upload.filename or "image", max_pixels)
        elif request.mimetype.startswith("image/"):
            rgb = decode_upload(request.get_data(), "request body", max_pixels)
        else:
            raise Rejected(400, "image: missing; send the photo as the multipart field 'image' "
                                "or as the request body with an image/* Content-Type")
        backdrop = request.files.get("background_image")
        backdrop = decode_upload(backdrop.read(), backdrop.filename or "background_image",
                                 max_pixels) if backdrop else None
        options = _look(request.values, backdrop, defaults)
        fmt = request.values.get("format", "json")
        if fmt not in ("json", "png"):
            raise OptionError("format", fmt, "choose json or png")
        kind = request.values.get("kind", "cutout")
        if fmt == "png" and kind not in KINDS:
            raise OptionError("kind", kind, f"choose one of {','.join(KINDS)}")
        started = time.perf_counter()
        with budget.hold(rgb.shape[0] * rgb.shape[1], deadline):
            with budget.lock(model_lock, deadline):
                deadline.check("model")
                probs = seg.predict(rgb)
            deadline.check("pictures")
            if fmt == "png":
                picture = render_all([kind], rgb, probs, options)[kind]
                deadline.check("encoding")
                return Response(encode_image(picture, ".png"), mimetype="image/png")
            pictures = render_all(PAGE_KINDS, rgb, probs, options)
            deadline.check("encoding")
            images = {kind: data_url(picture, kind) for kind, picture in pictures.items()}
        return jsonify(
            width=int(rgb.shape[1]), height=int(rgb.shape[0]),
            person_fraction=round(float((probs >= options.threshold).mean()), 4),
            edges=options.edges, seconds=round(time.perf_counter() - started, 3),
            images=images,
        )

    return app
