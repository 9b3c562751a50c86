"""Options several commands share: the model to run (predict, evaluate, grid, serve), how the
pictures look (predict, serve), the ground truth to score against (evaluate, grid) and the
prepared output (prepare, prepare-folder)."""

from __future__ import annotations

import argparse

# the output guard's roles, for the commands' PATHS (commands import only this module)
from personseg.cli.guard import DERIVED, NOT_A_PATH, READ, READ_ROOT, WRITE, WRITE_FOLDER  # noqa: F401

# what the shared options are to the output guard (`personseg.cli.guard`)
MODEL_PATHS = {"weights": READ}
LOOK_PATHS = {"background": READ}
GROUND_TRUTH_PATHS = {"annotations": READ, "images": READ, "data": READ_ROOT, "split": NOT_A_PATH}
PREPARED_OUTPUT_PATHS = {"out": WRITE_FOLDER, "split": NOT_A_PATH}


def add_model_arguments(p: argparse.ArgumentParser) -> None:
    from personseg.backends import BACKENDS
    from personseg.backends.peers import ENV_DIR, RELATIVE_DIR
    from personseg.backends.refs import expected
    from personseg.inference.letterbox import AUTO, FIT_RUNTIMES, FRAMING_CHOICES
    from personseg.pretrained import DEFAULT

    g = p.add_argument_group("model")
    g.add_argument("--weights", metavar="FILE|pretrained:NAME|peer:NAME",
                   help=f"the model: {expected(('file', 'pretrained', 'peer'))} (default: "
                        f"pretrained:{DEFAULT}; peer files in ${ENV_DIR} or {RELATIVE_DIR})")
    g.add_argument("--backend", choices=["auto", *BACKENDS], default="auto",
                   help="runtime (default auto: by the model file's extension; packaged models run "
                        "their ONNX twin when onnxruntime is installed; a peer runs on its own)")
    g.add_argument("--size", type=int,
                   help="input size for a model saved with a dynamic input (e.g. a run's best.keras)")
    g.add_argument("--tta", action="store_true",
                   help="test-time augmentation: average with the mirrored photo (twice the time)")
    g.add_argument("--framing", choices=FRAMING_CHOICES, default=AUTO,
                   help="auto (default): the framing the model file records (square if none, or "
                        "where the runtime takes only the model's square); square: letterbox every "
                        "photo into the model's square input; fit: a canvas shaped like the photo "
                        "with no more pixels (the network sees portraits and wide frames larger at "
                        f"the same cost; needs {FIT_RUNTIMES}: the packaged ONNX twins are)")


def load_segmenter(args: argparse.Namespace):
    """Segmenter for --weights/--backend/--size/--tta/--framing."""
    from personseg.inference.segmenter import Segmenter
    from personseg.limits import check_size

    options = {"size": check_size(args.size)} if args.size is not None else {}
    return Segmenter.open(args.weights, backend=args.backend, tta=args.tta, framing=args.framing, **options)


def add_look_arguments(p: argparse.ArgumentParser) -> None:
    """How cut-outs, blurred and replaced backgrounds look (predict, serve)."""
    from personseg.inference.edges import EDGES

    g = p.add_argument_group("look of cutout, blur and replace")
    g.add_argument("--edges", choices=EDGES, default="refined",
                   help="alpha edge: sharp (0/1 mask), soft (probability ramp), refined (soft, "
                        "snapped to the photo's edges by a guided filter; default)")
    g.add_argument("--background", default="white", metavar="COLOR|IMAGE",
                   help="replace: a colour name, #rrggbb, R,G,B, or an image file (scaled to cover); "
                        "default white")
    g.add_argument("--blur-strength", type=float, default=0.03, metavar="S",
                   help="blur: Gaussian sigma as a fraction of the longer side (default 0.03)")


def add_ground_truth_arguments(p: argparse.ArgumentParser) -> None:
    """Ground-truth source options (evaluate, grid)."""
    g = p.add_argument_group("ground truth (one of)")
    g.add_argument("--annotations", metavar="ANN.json", help="COCO instances JSON (with --images)")
    g.add_argument("--images", metavar="DIR", help="folder holding the COCO file_names")
    g.add_argument("--data", metavar="ROOT", help="prepared dataset root (images/<split>, masks/<split>)")
    g.add_argument("--split", default=None, help="split of --data (default: val if present, else flat)")
    p.add_argument("--limit", type=int, help="only the first N images (sorted by file name)")


def load_ground_truth(args: argparse.Namespace):
    """Samples from --annotations/--images or --data/--split, cut to --limit."""
    from personseg.errors import UserError
    from personseg.evaluation.samples import load_samples

    if bool(args.annotations) != bool(args.images):
        raise UserError("--annotations and --images go together")
    if args.annotations and args.data:
        raise UserError("give either --annotations/--images or --data, not both")
    if not args.annotations and not args.data:
        raise UserError("give --annotations ANN.json --images DIR, or --data ROOT [--split S]")
    return load_samples(args.annotations, args.images, args.data, args.split, args.limit)


def add_prepared_output_arguments(p: argparse.ArgumentParser) -> None:
    """Where and how the prepare commands write the prepared layout."""
    p.add_argument("--out", required=True, metavar="OUT",
                   help="output root: images/<split>/*.jpg, masks/<split>/*.png, manifest_<split>.csv")
    p.add_argument("--split", default="train", help="split folder name (default: train)")
    p.add_argument("--max-side", type=int, metavar="PIXELS",
                   help="downscale images (and masks, nearest neighbour) whose longer side is larger")
    p.add_argument("--workers", type=int, default=1, help="worker processes (default: 1)")
    p.add_argument("--limit", type=int, metavar="N", help="only the first N images (sorted by file name)")
