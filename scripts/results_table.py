"""The README's accuracy table: every shipped model and every peer, scored by `personseg evaluate`'s
code on COCO minival and on the held-out splits of the three person-mask sets.

    .venv/bin/python scripts/results_table.py --heldout data

Each image is scored at its original resolution (letterboxed into the model and back), threshold
0.5, pooled over the set. COCO minival: `../shared/data/coco-person-mini` (62 images, 30 without
anyone). Held-out splits: `DATA/{ccp,humanseg,pennfudan}` prepared with
`personseg prepare-folder --holdout 5` (split `test`: 1 in 5 pairs by the SHA-1 of the file stem;
no shipped model trained on them). Writes `weights/<name>.minival.json` (what
`tests/test_shipped_weights.py` checks `personseg evaluate` against) and
`benchmarks/results/accuracy.json` (every figure), and prints the Markdown table.
Peers are found as `personseg.backends.peers` says; those trained on COCO train images are
marked: minival is not held out for them, so their minival figures are optimistic.
"""

from __future__ import annotations

import argparse
import json
import os
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
SHARED = Path(os.environ.get("PERSONSEG_SHARED", REPO.parent / "shared"))
HELD_OUT = ("ccp", "humanseg", "pennfudan")


def score(seg, samples) -> dict:
    from personseg.evaluation.evaluate import evaluate

    return evaluate(seg, samples, progress=False).summary()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--coco", type=Path, default=SHARED / "data" / "coco-person-mini")
    parser.add_argument("--heldout", type=Path, help="folder with prepared ccp/, humanseg/, pennfudan/")
    parser.add_argument("--peers-dir", type=Path, help="peer model files (default: as personseg finds them)")
    parser.add_argument("--out", type=Path, default=REPO / "benchmarks" / "results" / "accuracy.json")
    args = parser.parse_args()

    from personseg.backends.peers import PEERS, available_peers
    from personseg.evaluation.samples import coco_samples, prepared_samples
    from personseg.files import write_text
    from personseg.inference.segmenter import Segmenter
    from personseg.pretrained import MODELS

    minival = args.coco / "annotations" / "instances_minival.json"
    sets = {"minival": coco_samples(minival, args.coco / "images")}
    for name in HELD_OUT if args.heldout else ():
        sets[name] = prepared_samples(args.heldout / name, "test")
    shipped = {model.repo_file: name for name, model in MODELS.items()}  # file -> recipe name
    models = {f"`{path}`": (lambda p=path: Segmenter.from_weights(REPO / p)) for path in shipped}
    for path in shipped:  # horizontal-flip test-time augmentation (Segmenter(tta=True), --tta)
        models[f"`{path}` + flip TTA"] = lambda p=path: Segmenter.from_weights(REPO / p, tta=True)
    found = available_peers(args.peers_dir)
    for name, spec in PEERS.items():
        if name in found:
            mark = " †" if spec.coco_trained else ""
            models[f"`peer:{name}`{mark}"] = lambda n=name: Segmenter.from_weights(f"peer:{n}",
                                                                                    peers_dir=args.peers_dir)
    results: dict[str, dict] = {}
    for label, make in models.items():
        seg = make()
        results[label] = {set_name: score(seg, samples) for set_name, samples in sets.items()}
        print(label, {k: round(v["iou"], 3) for k, v in results[label].items()}, flush=True)
    for path, recipe in shipped.items():
        write_text(REPO / "weights" / f"{recipe}.minival.json",
                   json.dumps(results[f"`{path}`"]["minival"], indent=2) + "\n")
    write_text(args.out, json.dumps({"sets": {k: len(v) for k, v in sets.items()}, "results": results},
                                    indent=2) + "\n")
    header = ["model", "minival IoU", "mean image IoU", "person-free pixels marked"] + [
        f"{name} test IoU" for name in sets if name != "minival"]
    lines = ["| " + " | ".join(header) + " |", "|---" * len(header) + "|"]
    for label, by_set in results.items():
        m = by_set["minival"]
        cells = [label, f"{m['iou']:.3f}", f"{m['mean_image_iou']:.3f}", f"{m['empty_fp_rate']:.2%}"]
        cells += [f"{by_set[name]['iou']:.3f}" for name in sets if name != "minival"]
        lines.append("| " + " | ".join(cells) + " |")
    print("\n".join(lines))


if __name__ == "__main__":
    main()
