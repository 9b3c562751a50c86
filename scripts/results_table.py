"""The README's results table: `personseg evaluate` of the shipped weights on COCO minival.

    .venv/bin/python scripts/results_table.py

Scores `weights.h5` and `weights/shallow.h5` against `../shared/data/coco-person-mini` minival at
each image's original resolution (threshold 0.5), writes `weights/unet.minival.json` and
`weights/shallow.minival.json` (what `tests/test_shipped_weights.py` checks `personseg evaluate`
against) and prints a Markdown table.
MediaPipe's selfie segmenter is scored the same way, through the same letterboxing, when its
model is available (`personseg bench --fetch-mediapipe` caches it); its figures are printed, not
recorded.
"""

from __future__ import annotations

import argparse
import json
import os
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
COCO = Path(os.environ.get("PERSONSEG_SHARED", REPO.parent / "shared")) / "data" / "coco-person-mini"
# shipped file -> the name its recipe files carry in weights/ (unet.config.json, unet.minival.json, ...)
MODELS = {"weights.h5": "unet", "weights/shallow.h5": "shallow"}
COLUMNS = [("iou", "pooled IoU"), ("mean_image_iou", "mean image IoU"), ("dice", "pooled Dice"),
           ("accuracy", "pixel accuracy"), ("precision", "precision"), ("recall", "recall"),
           ("empty_fp_rate", "person pixels on person-free images")]


def row(name: str, summary: dict) -> str:
    cells = [f"{summary[key]:.3f}" if key != "empty_fp_rate" else f"{summary[key]:.1%}" for key, _ in COLUMNS]
    return f"| {name} | " + " | ".join(cells) + f" | {summary['best_threshold']:g} |"


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--coco", type=Path, default=COCO, help="coco-person-mini folder")
    args = parser.parse_args()

    from personseg.backends import mediapipe as mediapipe_peer
    from personseg.evaluation.evaluate import evaluate
    from personseg.evaluation.samples import coco_samples
    from personseg.files import write_text
    from personseg.inference.segmenter import Segmenter

    samples = coco_samples(args.coco / "annotations" / "instances_minival.json", args.coco / "images")
    lines = ["| model | " + " | ".join(title for _, title in COLUMNS) + " | best threshold |",
             "|---" * (len(COLUMNS) + 2) + "|"]
    for name, recipe in MODELS.items():
        summary = evaluate(Segmenter.from_weights(REPO / name), samples).summary()
        out = REPO / "weights" / f"{recipe}.minival.json"
        write_text(out, json.dumps(summary, indent=2) + "\n")  # atomic
        print(f"wrote {out.relative_to(REPO)}")
        lines.append(row(f"`{name}`", summary))
    model = mediapipe_peer.find_model()
    if model is not None:
        peer = Segmenter(mediapipe_peer.MediaPipeSelfie(model))
        name = f"MediaPipe selfie {mediapipe_peer.VERSION} (peer)"
        lines.append(row(name, evaluate(peer, samples).summary()))
    print("\n".join(lines))


if __name__ == "__main__":
    main()
