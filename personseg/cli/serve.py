"""`personseg serve`: the local web page and `POST /v1/segment`, one model loaded once."""

from __future__ import annotations

import argparse

from personseg.cli.options import (
    LOOK_PATHS,
    MODEL_PATHS,
    NOT_A_PATH,
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
    from personseg.serve.budget import DEFAULT_SECONDS
    from personseg.serve.uploads import MAX_PIXELS, MAX_UPLOAD_BYTES

    p.add_argument("--max-upload-mb", type=float, default=MAX_UPLOAD_BYTES / 2**20, metavar="MB",
                   help="largest upload accepted (default %(default)g MB; larger ones get HTTP 413)")
    p.add_argument("--max-megapixels", type=float, default=MAX_PIXELS / 1e6, metavar="MP",
                   help="largest photo accepted (default %(default)g; larger ones get HTTP 413), and "
                        "the pixels all requests in progress may hold together (others wait)")
    p.add_argument("--request-seconds", type=float, default=DEFAULT_SECONDS, metavar="S",
                   help="time budget per request, waiting included (default %(default)g; past it: "
                        "HTTP 503)")
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
    if not 0 < args.max_upload_mb <= 4096:
        raise OptionError("max_upload_mb", args.max_upload_mb, "must be above 0 and at most 4096")
    if not 0 < args.max_megapixels <= 1000:
        raise OptionError("max_megapixels", args.max_megapixels, "must be above 0 and at most 1000")
    if not 0 < args.request_seconds <= 3600:
        raise OptionError("request_seconds", args.request_seconds, "must be above 0 and at most 3600")
    check_host(args.host)
    look = Look(args.threshold, args.edges, args.background, args.blur_strength)
    seg = load_segmenter(args)
    app = create_app(seg, look, max_bytes=int(args.max_upload_mb * 1024 * 1024),
                     max_pixels=int(args.max_megapixels * 1e6), model_name=args.weights or "pretrained",
                     seconds=args.request_seconds)
    host = f"[{args.host}]" if ":" in args.host else args.host
    print(f"personseg serve: open http://{host}:{args.port}/ (Ctrl-C stops)", flush=True)
    try:
        serve(app, host=args.host, port=args.port, threads=args.threads, ident="personseg")
    except ValueError as exc:  # waitress: an address it cannot listen on
        raise OptionError("host", args.host, f"cannot listen there ({exc})") from None
    return 0


def check_host(host: str) -> None:
    """`--host`: an IP address (checked as one when it looks like one) or a local host name."""
    import ipaddress
    import socket

    from personseg.errors import OptionError

    looks_numeric = ":" in host or all(part.isdigit() for part in host.split("."))
    try:
        if looks_numeric:
            ipaddress.ip_address(host)
        else:
            socket.getaddrinfo(host, None, flags=socket.AI_PASSIVE)
    except (ValueError, OSError):
        raise OptionError("host", host, "not an IP address or a host name of this computer "
                                        "(e.g. 127.0.0.1, 0.0.0.0, ::1, localhost)") from None
