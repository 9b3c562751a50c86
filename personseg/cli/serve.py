"""`personseg serve`: the local web page and `POST /v1/segment`, one model loaded once."""

from __future__ import annotations

import argparse

from personseg.cli.guard import NOT_A_PATH
from personseg.cli.options import (
    LOOK_PATHS,
    MODEL_PATHS,
    add_look_arguments,
    add_model_arguments,
    load_segmenter,
)

PATHS = {"host": NOT_A_PATH, **MODEL_PATHS, **LOOK_PATHS}  # writes nothing


def add_arguments(p: argparse.ArgumentParser) -> None:
    p.add_argument("--host", default="127.0.0.1",
                   help="address to listen on (default 127.0.0.1: this computer only; 0.0.0.0 "
                        "shares it with your network)")
    p.add_argument("--port", type=int, default=8000, help="port (default 8000)")
    p.add_argument("--threads", type=int, default=4, help="request threads (default 4)")
    p.add_argument("--max-upload-mb", type=float, default=20, metavar="MB",
                   help="largest upload accepted (default 20 MB; larger ones get HTTP 413)")
    p.add_argument("--threshold", type=float, default=0.5, help="person if probability ≥ this")
    add_model_arguments(p)
    add_look_arguments(p)


def run(args: argparse.Namespace) -> int:
    from waitress import serve

    from personseg.errors import OptionError
    from personseg.inference.render import Look
    from personseg.serve.app import create_app

    if not 0 < args.port < 65536:
        raise OptionError("port", args.port, "must be between 1 and 65535")
    if args.threads < 1:
        raise OptionError("threads", args.threads, "must be at least 1")
    if args.max_upload_mb <= 0:
        raise OptionError("max_upload_mb", args.max_upload_mb, "must be above 0")
    look = Look(args.threshold, args.edges, args.background, args.blur_strength)
    seg = load_segmenter(args)
    app = create_app(seg, look, max_bytes=int(args.max_upload_mb * 1024 * 1024),
                     model_name=args.weights or "pretrained")
    host = f"[{args.host}]" if ":" in args.host else args.host
    print(f"personseg serve: open http://{host}:{args.port}/ (Ctrl-C stops)", flush=True)
    serve(app, host=args.host, port=args.port, threads=args.threads, ident="personseg")
    return 0
