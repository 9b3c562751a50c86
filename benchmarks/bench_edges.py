"""Edge quality of the three alpha styles (sharp, soft, refined) on held-out photos.

For every held-out pair (1 in 5 by the SHA-1 of the stem, the `prepare-folder --holdout 5` rule)
of the person-mask sets in ../shared/data/person-masks (ccp, humanseg, pennfudan), the packaged
model's probabilities become an alpha in each style (`personseg.inference.edges.alpha_matte`),
scored against the true mask at the photo's own size (`personseg.evaluation.boundary`):

- boundary F: DAVIS boundary F-score of the alpha ≥ 0.5 outline (tolerance 0.8 % of the diagonal);
- band IoU: soft IoU in the band within 1 % of the diagonal of the true outline (partial alpha
  gets partial credit), and band MAE: mean absolute alpha error there.

Means per set and over all photos, with the refined − sharp differences and how many photos
refinement improved. The masks are binary, so a soft alpha is only rewarded where it is right.

    python benchmarks/bench_edges.py                       # JSON to stdout
    python benchmarks/bench_edges.py --out benchmarks/results/edges.json
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import time
from pathlib import Path

import numpy as np

from personseg.data.dataset_layout import held_out
from personseg.evaluation.boundary import edge_score
from personseg.files import read_mask, read_rgb, write_text
from personseg.inference.edges import EDGES, GUIDE_EPS, GUIDE_RADIUS, SOFT_BAND, alpha_matte
from personseg.inference.segmenter import Segmenter

REPO = Path(__file__).resolve().parents[1]
PERSON_MASKS = Path(os.environ.get("PERSONSEG_SHARED", REPO.parent / "shared")) / "data" / "person-masks"
SETS = ("ccp", "humanseg", "pennfudan")
METRICS = ("boundary_f", "band_iou", "band_mae")


def pairs(name: str, limit: int | None) -> list[tuple[Path, Path]]:
    images = sorted(p for p in (PERSON_MASKS / name / "images").iterdir() if held_out(p.stem, 5))
    return [(p, PERSON_MASKS / name / "masks" / f"{p.stem}.png") for p in images[:limit]]


def mean_scores(rows: list[dict]) -> dict:
    return {edges: {m: round(float(np.mean([r[edges][m] for r in rows])), 4) for m in METRICS}
            for edges in EDGES}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--limit", type=int, help="at most N held-out photos per set")
    parser.add_argument("--out", type=Path)
    args = parser.parse_args()
    if not PERSON_MASKS.is_dir():
        raise SystemExit(f"{PERSON_MASKS}: absent (set PERSONSEG_SHARED)")
    seg = Segmenter.pretrained()
    per_set, everything, seconds = {}, [], {edges: 0.0 for edges in EDGES}
    for name in SETS:
        rows = []
        for image_path, mask_path in pairs(name, args.limit):
            rgb, truth = read_rgb(image_path, orientation=False), read_mask(mask_path) > 127
            probs = seg.predict(rgb)
            row = {"photo": f"{name}/{image_path.stem}"}
            for edges in EDGES:
                started = time.perf_counter()
                alpha = alpha_matte(rgb, probs, edges=edges)
                seconds[edges] += time.perf_counter() - started
                row[edges] = edge_score(alpha, truth).__dict__
            rows.append(row)
        per_set[name] = {"photos": len(rows), **mean_scores(rows)}
        everything += rows
        print(json.dumps({name: per_set[name]}), flush=True)
    overall = {"photos": len(everything), **mean_scores(everything)}
    gains = {f"refined_minus_{base}": {m: round(overall["refined"][m] - overall[base][m], 4) for m in METRICS}
             for base in ("sharp", "soft")}
    improved = {m: sum((r["refined"][m] < r["sharp"][m]) if m == "band_mae" else
                       (r["refined"][m] > r["sharp"][m]) for r in everything) for m in METRICS}
    result = {
        "benchmark": "edge_quality", "model": "pretrained (default, ONNX Runtime)",
        "data": "person-masks held-out pairs (1 in 5 by SHA-1 of the stem)",
        "settings": {"soft_band": SOFT_BAND, "guide_radius": f"{GUIDE_RADIUS} x longer side",
                     "guide_eps": GUIDE_EPS},
        "machine": platform.machine(), "overall": overall, **gains,
        "photos_refined_better_than_sharp": improved,
        "alpha_ms_per_photo": {e: round(1000 * s / max(1, len(everything)), 2) for e, s in seconds.items()},
        "per_set": per_set,
    }
    text = json.dumps(result, indent=2) + "\n"
    if args.out:
        write_text(args.out, text)
    print(text)


if __name__ == "__main__":
    main()
