"""`personseg bench --quick` end to end on a tiny model: the JSON and Markdown it writes."""

from __future__ import annotations

import json

import pytest

from personseg.backends import mediapipe as mediapipe_peer
from personseg.bench.report import targets as bench_targets
from personseg.bench.run import run_bench
from personseg.bench.settings import Settings
from tests.export_helpers import save_random_model


@pytest.fixture(scope="module")
def quick_run(tmp_path_factory):
    from personseg.cli import main

    folder = tmp_path_factory.mktemp("bench")
    weights = save_random_model(folder / "tiny.h5", 64)
    out, md = folder / "infer.json", folder / "infer.md"
    code = main(["bench", "--quick", "--weights", f"tiny={weights}",
                 "--backends", "keras,onnx,tflite,tflite-int8", "--out", str(out), "--markdown", str(md)])
    assert code == 0
    return json.loads(out.read_text()), md.read_text()


def test_quick_bench_measures_every_backend(quick_run):
    report, _ = quick_run
    ours = [r for r in report["results"] if r["model"] == "tiny"]
    assert [(r["size"], r["backend"]) for r in ours] == [(64, "keras"), (64, "onnx"), (64, "tflite")]
    for row in report["results"]:
        latency = row["latency_ms"]
        assert 0 < latency["min"] <= latency["median"] <= latency["p90"]
        assert latency["runs"] == 5
        assert row["throughput"]["batch"] == 4 and row["throughput"]["images_per_s"] > 0
        assert row["e2e"]["images"] == 4 and row["e2e"]["images_per_s"] > 0
        assert row["file_bytes"] > 0
    for row in ours[1:]:  # exports carry their parity check against Keras
        assert row["parity"]["max_abs_diff"] <= 1e-3 and row["parity"]["min_agreement"] >= 0.999
        assert row["parity"]["within_tolerance"] is True
        assert row["threads"] >= 1


def test_quick_bench_records_settings_machine_and_skips(quick_run):
    report, _ = quick_run
    assert report["settings"]["sizes"] == [64] and report["settings"]["runs"] == 5
    assert report["machine"]["physical_cores"] >= 1 and report["machine"]["packages"]["onnxruntime"]
    assert report["command"].startswith("personseg ")
    reasons = {(s["model"], s["backend"]): s["reason"] for s in report["skipped"]}
    assert "calibration" in reasons[("tiny", "tflite-int8")]
    peer = [r for r in report["results"] if r["model"] == mediapipe_peer.NAME]
    if mediapipe_peer.find_model() is None:
        assert (mediapipe_peer.NAME, "tflite") in reasons and not peer
    else:
        assert peer[0]["size"] == 256 and len(peer[0]["sha256"]) == 64


def test_markdown_table_has_a_row_per_result(quick_run):
    report, md = quick_run
    rows = [line for line in md.splitlines() if line.startswith("| ") and "---" not in line]
    assert rows[0].startswith("| model | size | backend | batch-1 median ms | p90 ms | batch-4 img/s")
    assert len(rows) == 1 + len(report["results"])
    assert "| tiny | 64 | onnx |" in md


def _row(model, size, backend, ms):
    return {"model": model, "size": size, "backend": backend, "latency_ms": {"median": ms}}


def test_targets_pick_the_fastest_usable_backend_and_compare_with_mediapipe():
    rows = [
        _row(mediapipe_peer.NAME, 256, "tflite", 5.0),
        _row("weights.h5", 256, "keras", 30.0),
        _row("weights.h5", 256, "onnx", 8.0),
        _row("weights.h5", 512, "onnx", 2.0),  # other size: ignored
        _row("shallow.h5", 256, "tflite", 4.0),
        {**_row("weights.h5", 256, "tflite-int8", 3.0), "parity": {"within_tolerance": False}},
    ]
    targets = {t["model"]: t for t in bench_targets(rows)}
    assert targets["weights.h5"]["fastest_backend"] == "onnx"
    assert targets["weights.h5"]["ratio_to_mediapipe"] == 1.6
    assert targets["shallow.h5"]["ratio_to_mediapipe"] == 0.8
    assert mediapipe_peer.NAME not in targets


def test_unknown_backend_and_missing_weights_are_user_errors(tmp_path):
    from personseg.errors import UserError

    with pytest.raises(UserError, match="onnx-int4.*choose from"):
        run_bench({"x": tmp_path / "x.h5"}, Settings.quick(variants=["onnx-int4"]))
    with pytest.raises(UserError, match="weights file not found"):
        run_bench({"x": tmp_path / "x.h5"}, Settings.quick())
