"""Mask flicker on static scenes, before and after temporal smoothing (`predict --smooth`).

A static scene is one photo held for N frames with camera-like sensor noise (Gaussian, sigma 6
grey levels, new every frame), written as H.264 (libx264, CRF 23) and decoded back, the way a
phone or webcam clip of a still scene reaches the model. Every change of the mask between
frames is then flicker. For each scene and smoothing strength: flicker (mean absolute change of
the 0/1 mask between consecutive frames, `temporal.flicker`) and the mean IoU of the frames'
masks with the mask of the clean photo (smoothing must not cost accuracy). Scenes: the
package's sample photos and, when ../shared/data is there, the first held-out photos of each
person-mask set.

    python benchmarks/bench_flicker.py                       # JSON to stdout
    python benchmarks/bench_flicker.py --out benchmarks/results/flicker.json
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import tempfile
from pathlib import Path

import av
import numpy as np

from personseg.data.dataset_layout import held_out
from personseg.files import read_rgb, write_text
from personseg.inference.sample_photos import sample_images
from personseg.inference.segmenter import Segmenter
from personseg.inference.temporal import TemporalSmoother, flicker

REPO = Path(__file__).resolve().parents[1]
PERSON_MASKS = Path(os.environ.get("PERSONSEG_SHARED", REPO.parent / "shared")) / "data" / "person-masks"
NOISE = 6.0


def scenes(per_set: int) -> dict[str, np.ndarray]:
    photos = dict(sample_images())
    for name in ("ccp", "humanseg", "pennfudan"):
        folder = PERSON_MASKS / name / "images"
        if folder.is_dir():
            held = sorted(p for p in folder.iterdir() if held_out(p.stem, 5))[:per_set]
            photos.update({f"{name}/{p.stem}": read_rgb(p) for p in held})
    return photos


def static_clip(photo: np.ndarray, frames: int, seed: int) -> list[np.ndarray]:
    """`frames` noisy copies of `photo` through an H.264 encode and decode (even size: cropped)."""
    photo = photo[: photo.shape[0] // 2 * 2, : photo.shape[1] // 2 * 2]
    rng = np.random.default_rng(seed)
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "still.mp4"
        with av.open(str(path), "w") as out:
            stream = out.add_stream("libx264", rate=25)
            stream.width, stream.height, stream.pix_fmt = photo.shape[1], photo.shape[0], "yuv420p"
            stream.options = {"crf": "23", "preset": "veryfast"}
            for _ in range(frames):
                noisy = np.clip(photo + rng.normal(0, NOISE, photo.shape), 0, 255).astype(np.uint8)
                out.mux(stream.encode(av.VideoFrame.from_ndarray(noisy, format="rgb24")))
            out.mux(stream.encode(None))
        with av.open(str(path)) as clip:
            return [frame.to_ndarray(format="rgb24") for frame in clip.decode(video=0)]


def iou(a: np.ndarray, b: np.ndarray) -> float:
    union = (a | b).sum()
    return 1.0 if union == 0 else float((a & b).sum() / union)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--frames", type=int, default=30)
    parser.add_argument("--per-set", type=int, default=4, help="held-out photos per person-mask set")
    parser.add_argument("--strengths", default="0,0.4,0.6,0.8")
    parser.add_argument("--out", type=Path)
    args = parser.parse_args()
    strengths = [float(s) for s in args.strengths.split(",")]
    seg = Segmenter.pretrained()
    rows = []
    for index, (name, photo) in enumerate(scenes(args.per_set).items()):
        frames = static_clip(photo, args.frames, seed=index)
        clean = seg.mask(photo[: frames[0].shape[0], : frames[0].shape[1]])
        probs = seg.predict_batch(frames)
        row = {"scene": name, "size": [frames[0].shape[1], frames[0].shape[0]]}
        for strength in strengths:
            smoother = TemporalSmoother(strength)
            masks = [smoother(rgb, p) >= 0.5 for rgb, p in zip(frames, probs, strict=True)]
            agreement = float(np.mean([iou(m, clean) for m in masks]))
            row[f"smooth={strength:g}"] = {"flicker": round(flicker(masks), 6),
                                           "iou_vs_clean": round(agreement, 4)}
        rows.append(row)
        print(json.dumps(row), flush=True)
    summary = {}
    for strength in strengths:
        key = f"smooth={strength:g}"
        summary[key] = {"mean_flicker": round(float(np.mean([r[key]["flicker"] for r in rows])), 6),
                        "mean_iou_vs_clean": round(float(np.mean([r[key]["iou_vs_clean"] for r in rows])), 4)}
    base = summary["smooth=0"]["mean_flicker"] if "smooth=0" in summary else None
    for values in summary.values():
        if base:
            values["flicker_vs_off"] = round(values["mean_flicker"] / base, 3)
    result = {"benchmark": "static_scene_flicker", "model": "pretrained (default, ONNX Runtime)",
              "frames": args.frames, "noise_sigma": NOISE, "codec": "libx264 crf 23",
              "motion_aware": True, "machine": platform.machine(), "summary": summary, "scenes": rows}
    text = json.dumps(result, indent=2) + "\n"
    if args.out:
        write_text(args.out, text)
    print(text)


if __name__ == "__main__":
    main()
