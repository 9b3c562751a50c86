"""The README's accuracy table: every shipped model and every peer (and any candidate model
files), scored by `personseg evaluate`'s code on COCO minival (with a bootstrap interval), on the
held-out splits of the three person-mask sets, and by box metrics on `person-wild:val`.

    .venv/bin/python scripts/results_table.py --heldout data [--candidates runs/x/model.h5 ...]

Each image is scored at its original resolution (letterboxed into the model and back, in the
framing the model file records, as `--framing auto` does), threshold 0.5, pooled over the set. COCO
minival: `../shared/data/coco-person-mini` (62 images, 30 without anyone). Held-out splits:
`DATA/{ccp,humanseg,pennfudan}` prepared with `personseg prepare-folder --holdout 5` (split
`test`: 1 in 5 pairs by the SHA-1 of the file stem; no shipped model trained on them). Writes
`weights/<name>.minival.json` (what `tests/test_shipped_weights.py` checks `personseg evaluate`
against) and `benchmarks/results/accuracy.json` (every figure), and prints the Markdown table.
person-wild:val: `../shared/data/person-wild`, the fixed 1 in 5 by file name that no model here
trains on (`personseg.data.box_set`); `personseg.evaluation.box_metrics` says what its figures mean.
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


def score(seg, samples, interval: bool = False) -> dict:
    from personseg.evaluation.evaluate import evaluate

    evaluation = evaluate(seg, samples, progress=False)
    summary = evaluation.summary()
    if interval:
        summary["iou_interval_90"] = evaluation.iou_interval()
    return summary


def score_wild(seg, samples) -> dict:
    from personseg.evaluation.box_metrics import score_boxes

    return score_boxes(seg, samples).summary()


def load_sets(coco: Path, heldout: Path | None, wild_root: Path) -> tuple[dict, list]:
    """({set name: mask samples}: minival and the held-out test splits, the wild:val box photos)."""
    from personseg.data.box_set import find_box_samples
    from personseg.evaluation.samples import coco_samples, prepared_samples

    sets = {"minival": coco_samples(coco / "annotations" / "instances_minival.json", coco / "images")}
    for name in HELD_OUT if heldout else ():
        sets[name] = prepared_samples(heldout / name, "test")
    wild = find_box_samples(wild_root, "val") if wild_root.is_dir() else []
    if not wild:
        print(f"note: {wild_root} is not there: no wild:val columns (--wild ROOT)", flush=True)
    return sets, wild


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--coco", type=Path, default=SHARED / "data" / "coco-person-mini")
    parser.add_argument("--heldout", type=Path, help="folder with prepared ccp/, humanseg/, pennfudan/")
    parser.add_argument("--wild", type=Path, default=SHARED / "data" / "person-wild",
                        help="photos with person boxes; its val split is scored by box metrics")
    parser.add_argument("--candidates", type=Path, nargs="*", default=[],
                        help="more model files to score beside the shipped ones (not written to weights/)")
    parser.add_argument("--no-tta", action="store_true", help="leave out the flip-TTA rows")
    parser.add_argument("--only", nargs="+", metavar="TEXT",
                        help="score only the rows whose label contains one of these (e.g. fast.h5)")
    parser.add_argument("--peers-dir", type=Path, help="peer model files (default: as personseg finds them)")
    parser.add_argument("--out", type=Path, default=REPO / "benchmarks" / "results" / "accuracy.json")
    args = parser.parse_args()

    from personseg.backends.peers import PEERS, available_peers
    from personseg.files import write_text
    from personseg.inference.segmenter import Segmenter
    from personseg.pretrained import MODELS

    sets, wild = load_sets(args.coco, args.heldout, args.wild)
    shipped = {model.repo_file: name for name, model in MODELS.items()}  # file -> recipe name
    models = {f"`{path}`": (lambda p=path: Segmenter.from_weights(REPO / p)) for path in shipped}
    for path in [] if args.no_tta else shipped:  # horizontal-flip TTA (Segmenter(tta=True), --tta)
        models[f"`{path}` + flip TTA"] = lambda p=path: Segmenter.from_weights(REPO / p, tta=True)
    for path in args.candidates:
        models[f"candidate `{path}`"] = lambda p=path: Segmenter.from_weights(p)
    found = available_peers(args.peers_dir)
    for name, spec in PEERS.items():
        if name in found:
            mark = " †" if spec.coco_trained else ""
            models[f"`peer:{name}`{mark}"] = lambda n=name: Segmenter.from_weights(f"peer:{n}",
                                                                                    peers_dir=args.peers_dir)
    if args.only:
        models = {label: make for label, make in models.items() if any(t in label for t in args.only)}
    results: dict[str, dict] = {}
    for label, make in models.items():
        seg = make()
        results[label] = {"framing": seg.framing}  # as run: `auto`, the one the file records
        results[label] |= {name: score(seg, samples, name == "minival") for name, samples in sets.items()}
        if wild:
            results[label]["wild:val"] = score_wild(seg, wild)
        print(label, seg.framing, {k: round(v.get("iou", v.get("found")), 3)
                                   for k, v in results[label].items() if isinstance(v, dict)}, flush=True)
    for path, recipe in shipped.items():
        if f"`{path}`" not in results:
            continue
        write_text(REPO / "weights" / f"{recipe}.minival.json",
                   json.dumps(results[f"`{path}`"]["minival"], indent=2) + "\n")
    counts = {k: len(v) for k, v in sets.items()} | ({"wild:val": len(wild)} if wild else {})
    write_text(args.out, json.dumps({"sets": counts, "results": results}, indent=2) + "\n")
    header = ["model", "framing", "minival IoU (90% interval)", "person-free pixels marked"] + [
        f"{name} test IoU" for name in sets if name != "minival"]
    if wild:
        header += ["wild:val boxes found", "found <1% / 1-5%", "wild:val marked outside boxes"]
    lines = ["| " + " | ".join(header) + " |", "|---" * len(header) + "|"]
    for label, by_set in results.items():
        m = by_set["minival"]
        low, high = m["iou_interval_90"]
        cells = [label, by_set["framing"], f"{m['iou']:.3f} ({low:.3f}–{high:.3f})",
                 f"{m['empty_fp_rate']:.2%}"]
        cells += [f"{by_set[name]['iou']:.3f}" for name in sets if name != "minival"]
        if wild:
            w = by_set["wild:val"]
            small = w["found_by_size"]
            cells += [f"{w['found']:.3f}", f"{small['<1%']:.3f} / {small['1-5%']:.3f}",
                      f"{w['outside_marked']:.2%}"]
        lines.append("| " + " | ".join(cells) + " |")
    print("\n".join(lines))


if __name__ == "__main__":
    main()
