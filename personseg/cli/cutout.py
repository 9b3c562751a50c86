"""`personseg cutout IN OUT`: one photo to one picture, file to file, `-` for stdin or stdout —
the cut-out (a transparent PNG) unless `--kind` names another picture. What rembg and MediaPipe
users type; `personseg predict` is the folder-and-video form."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from personseg.cli.options import (
    LOOK_PATHS,
    MODEL_PATHS,
    READ,
    WRITE,
    add_look_arguments,
    add_model_arguments,
    load_segmenter,
)
from personseg.errors import UserError

PATHS = {"input": READ, "output": WRITE, **MODEL_PATHS, **LOOK_PATHS}  # `-`: stdin / stdout

STDIO = "-"
ALPHA_FORMATS = (".png", ".webp", ".tif", ".tiff")  # files that keep a cut-out's transparency
WIDE_FORMATS = (".png", ".tif", ".tiff")  # files that keep probs' 16 bits


def add_arguments(p: argparse.ArgumentParser) -> None:
    from personseg.inference.render import KINDS

    p.add_argument("input", metavar="IN", help="an image file, or - to read one from stdin")
    p.add_argument("output", metavar="OUT",
                   help="the picture to write (format by extension: .png, .jpg, .webp, …), or - for "
                        "PNG on stdout; the cut-out needs a format with transparency (.png, .webp)")
    p.add_argument("--kind", choices=list(KINDS), default="cutout",
                   help="which picture (default cutout: the people on transparency; see predict --save)")
    p.add_argument("--threshold", type=float, default=0.5, help="person if probability ≥ this")
    add_model_arguments(p)
    add_look_arguments(p)


def _check_output(output: str, source: str, kind: str) -> None:
    """Everything about OUT that can be known before the model runs."""
    if output == STDIO:
        return
    from personseg.disk import check_writable_file
    from personseg.files import IMAGE_EXTENSIONS

    path = Path(output)
    suffix = path.suffix.lower()
    if source != STDIO and path.resolve() == Path(source).resolve():
        raise UserError(f"{output}: is the input photo; refusing to write over it")
    if suffix not in IMAGE_EXTENSIONS:
        raise UserError(f"{output}: not an image file name; end it with {', '.join(IMAGE_EXTENSIONS)}")
    if kind == "cutout" and suffix not in ALPHA_FORMATS:
        raise UserError(f"{output}: a cut-out is transparent and {suffix} has no alpha; "
                        f"use {' or '.join(ALPHA_FORMATS[:2])} (or --kind replace for a background)")
    if kind == "probs" and suffix not in WIDE_FORMATS:
        raise UserError(f"{output}: probs are 16-bit; use .png or .tif")
    check_writable_file(path)


def _read(source: str):
    from personseg.files import as_rgb, read_rgb

    if source != STDIO:
        return read_rgb(source)
    data = sys.stdin.buffer.read()
    if not data:
        raise UserError("-: nothing on stdin; pipe a photo in (personseg cutout - out.png < photo.jpg)")
    try:
        return as_rgb(data)
    except UserError:
        raise UserError("-: stdin is not a readable image (corrupt or unsupported format)") from None


def run(args: argparse.Namespace) -> int:
    from personseg.files import encode_image, write_image
    from personseg.inference.render import Look, render

    look = Look(args.threshold, args.edges, args.background, args.blur_strength)
    _check_output(args.output, args.input, args.kind)
    if args.output == STDIO and sys.stdout.isatty():
        raise UserError("-: stdout is a terminal; redirect it (> out.png) or give a file name")
    rgb = _read(args.input)  # before the model loads: a bad photo costs nothing
    seg = load_segmenter(args)
    picture = render(args.kind, rgb, seg.predict(rgb), look)
    if args.output == STDIO:
        sys.stdout.buffer.write(encode_image(picture, ".png"))
        sys.stdout.buffer.flush()
    else:
        write_image(args.output, picture)
        print(f"{args.kind} of {args.input} ({rgb.shape[1]}×{rgb.shape[0]}) -> {args.output}")
    return 0
