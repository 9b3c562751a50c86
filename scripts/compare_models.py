"""Two models on the same photos, signal by signal: B − A with a paired bootstrap interval.

    .venv/bin/python scripts/compare_models.py weights.h5 runs/x/model.h5 --heldout data \\
        [--out runs/compare.json]

The signals are `scripts/results_table.py`'s (COCO minival IoU, the held-out ccp / humanseg /
pennfudan test IoU, person-wild:val boxes found and pixels marked outside the boxes), scored by
the same code; the interval resamples photos, the same ones for both models
(`personseg.evaluation.paired`), so it says whether a gap could be the luck of the photos. It does
not cover training noise: a second seed of one recipe can move a figure by as much.
A and B are model files or `pretrained:NAME` / `peer:NAME`; `--framing-a/-b auto|square|fit` set
how each letterboxes (`personseg.inference.letterbox`; default `auto`, the one the file records),
so one file against itself compares framings.
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path

from results_table import SHARED, load_sets

from personseg.inference.letterbox import AUTO, FRAMING_CHOICES


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("a", help="model A (the one B is compared with)")
    parser.add_argument("b", help="model B")
    parser.add_argument("--coco", type=Path, default=SHARED / "data" / "coco-person-mini")
    parser.add_argument("--heldout", type=Path, help="folder with prepared ccp/, humanseg/, pennfudan/")
    parser.add_argument("--wild", type=Path, default=SHARED / "data" / "person-wild")
    parser.add_argument("--out", type=Path, help="write the comparison as JSON")
    parser.add_argument("--framing-a", default=AUTO, choices=FRAMING_CHOICES, help="model A's framing")
    parser.add_argument("--framing-b", default=AUTO, choices=FRAMING_CHOICES, help="model B's framing (the "
                        "same file twice, square then fit, compares the framings)")
    args = parser.parse_args()

    from personseg.evaluation.box_metrics import score_boxes
    from personseg.evaluation.evaluate import evaluate
    from personseg.evaluation.paired import box_counts, mask_counts, paired_difference
    from personseg.files import write_text
    from personseg.inference.segmenter import Segmenter

    sets, wild = load_sets(args.coco, args.heldout, args.wild)
    counts: dict[str, dict[str, object]] = {}
    framings: dict[str, str] = {}  # as run (`auto` resolved)
    for side, model, framing in (("a", args.a, args.framing_a), ("b", args.b, args.framing_b)):
        seg = Segmenter.from_weights(model, framing=framing)
        framings[side] = seg.framing
        counts[side] = {name: mask_counts(evaluate(seg, samples, progress=False))
                        for name, samples in sets.items()}
        if wild:
            counts[side]["wild:val"] = box_counts(score_boxes(seg, wild))
        print(f"{side.upper()}: {model} ({seg.framing} framing)", flush=True)
    if framings["a"] != framings["b"] and args.framing_a == args.framing_b == AUTO:
        print(f"note: A runs {framings['a']} and B {framings['b']} (each the framing its file records); "
              "pass --framing-a/-b to compare the networks alone", flush=True)
    signals = [(name, "iou") for name in sets] + ([("wild:val", "found"), ("wild:val", "outside_marked")]
                                                  if wild else [])
    rows = {f"{name} {figure}": paired_difference(counts["a"][name], counts["b"][name], figure)
            for name, figure in signals}
    print(f"| signal | A `{args.a}` | B `{args.b}` | B − A (90% paired interval) |\n|---|---|---|---|")
    for label, row in rows.items():
        low, high = row["interval"]
        print(f"| {label} | {row['a']:.4f} | {row['b']:.4f} | "
              f"{row['difference']:+.4f} ({low:+.4f} to {high:+.4f}) |")
    if args.out:
        write_text(args.out, json.dumps({"a": args.a, "b": args.b, "framing_a": framings["a"],
                                         "framing_b": framings["b"], "signals": rows}, indent=2) + "\n")


if __name__ == "__main__":
    main()
