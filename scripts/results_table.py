"""The README's results table: `personseg evaluate` of the shipped weights on COCO minival.

    .venv/bin/python scripts/results_table.py

Scores `weights.h5` and `weights/shallow.h5` against `../shared/data/coco-person-mini` minival at
each image's original resolution (threshold 0.5), writes `weights/unet.minival.json` and
`weights/shallow.minival.json` (what `tests/test_shipped_weights.py` checks `personseg evaluate`
against) and prints a Markdown table.
Every peer model whose file is found (`personseg.backends.peers`: ../shared/weights/peers or
$PERSONSEG_PEERS_DIR; MediaPipe's also where `personseg bench --fetch-mediapipe` caches it) is
scored the same way, through `personseg evaluate`'s code and the same letterboxing; its figures
are printed, not recorded. Peers trained on COCO train images are marked: minival is not held
out for them, so their figures are optimistic.
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
    parser.add_argument("--peers-dir", type=Path,
                        help="folder of peer model files "
                             "(default: $PERSONSEG_PEERS_DIR, else ../shared/weights/peers)")
    args = parser.parse_args()

    from personseg.backends.peers import PEERS, available_peers
    from personseg.evaluation.evaluate import evaluate
    from personseg.evaluation.samples import coco_samples
    from personseg.inference.segmenter import Segmenter

    samples = coco_samples(args.coco / "annotations" / "instances_minival.json", args.coco / "images")
    lines = ["| model | " + " | ".join(title for _, title in COLUMNS) + " | best threshold |",
             "|---" * (len(COLUMNS) + 2) + "|"]
    for name, recipe in MODELS.items():
        summary = evaluate(Segmenter.from_weights(REPO / name), samples).summary()
        out = REPO / "weights" / f"{recipe}.minival.json"
        out.write_text(json.dumps(summary, indent=2) + "\n")
        print(f"wrote {out.relative_to(REPO)}")
        lines.append(row(f"`{name}`", summary))
    found = available_peers(args.peers_dir)
    for name in PEERS:
        if name not in found:
            print(f"peer {name}: file {PEERS[name].file} not found, not scored")
            continue
        note = ", optimistic: trained on COCO train" if PEERS[name].coco_trained else ""
        peer = Segmenter.from_weights(f"peer:{name}", peers_dir=args.peers_dir)
        summary = evaluate(peer, samples).summary()
        lines.append(row(f"`peer:{name}` (peer{note})", summary))
    print("\n".join(lines))


if __name__ == "__main__":
    main()
