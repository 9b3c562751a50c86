"""`personseg bench --quick` end to end on a tiny model and two peers: the JSON and Markdown it
writes, the targets (relative to the MediaPipe selfie and DeepLab peers), peers skipped with a reason."""

from __future__ import annotations

import json

import pytest

from personseg.backends.peers import PEERS, locate_peer
from personseg.bench.report import targets as bench_targets
from personseg.bench.run import run_bench
from personseg.bench.settings import Settings
from tests.conftest import SHARED
from tests.export_helpers import save_random_model

PEERS_DIR = SHARED / "weights" / "peers"
TIMED_PEERS = ("mediapipe-selfie", "deeplabv3-mnv2")


@pytest.fixture(scope="module")
def quick_run(tmp_path_factory):
    from personseg.cli import main

    folder = tmp_path_factory.mktemp("bench")
    weights = save_random_model(folder / "tiny.h5", 64)
    out, md = folder / "infer.json", folder / "infer.md"
    code = main(["bench", "--quick", "--weights", f"tiny={weights}",
                 "--backends", "keras,onnx,tflite,tflite-int8", "--out", str(out), "--markdown", str(md),
                 "--peers", ",".join(TIMED_PEERS), "--peers-dir", str(PEERS_DIR)])
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
    for name in TIMED_PEERS:
        peer = [r for r in report["results"] if r["model"] == name]
        if locate_peer(name, PEERS_DIR) is None:
            assert "not found" in reasons[(name, PEERS[name].runtime)] and not peer
        else:
            assert peer[0]["peer"] is True and peer[0]["size"] == PEERS[name].size
            assert len(peer[0]["sha256"]) == 64 and peer[0]["threads"] >= 1
    # targets: at 256×256 (not run by --quick) and at the size each model ships at (the tiny one: 64)
    assert [(t["model"], t["size"]) for t in report["targets"]] == [("tiny", 64)]


def test_markdown_table_has_a_row_per_result(quick_run):
    report, md = quick_run
    rows = [line for line in md.splitlines() if line.startswith("| ") and "---" not in line]
    assert rows[0].startswith("| model | size | backend | batch-1 median ms | p90 ms | batch-4 img/s")
    assert len(rows) == 1 + len(report["results"])
    assert "| tiny | 64 | onnx |" in md
    for row in report["results"]:
        if row.get("peer"):
            assert f"| {row['model']} | {row['size']} | {row['backend']} |" in md and md.count("| peer |")


def _row(model, size, backend, ms):
    return {"model": model, "size": size, "backend": backend, "latency_ms": {"median": ms}}


def test_targets_pick_the_fastest_usable_backend_and_compare_with_the_peers():
    rows = [
        _row("mediapipe-selfie", 256, "tflite", 5.0),
        _row("deeplabv3-mnv2", 513, "tflite", 80.0),
        _row("pphumanseg", 192, "onnx", 1.0),  # other peers: neither a target nor a reference
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
    assert targets["weights.h5"]["deeplab_ms"] == 80.0 and targets["weights.h5"]["ratio_to_deeplab"] == 0.1
    assert set(targets) == {"weights.h5", "shallow.h5"}
    # a model that ships at 224 is compared at 224 as well, after its 256 entry
    fast = [{**_row("fast.h5", size, "onnx", ms), "native_size": 224}
            for size, ms in ((224, 2.0), (256, 2.5))]
    entries = [t for t in bench_targets(rows + fast) if t["model"] == "fast.h5"]
    assert [(t["size"], t["ratio_to_mediapipe"]) for t in entries] == [(256, 0.5), (224, 0.4)]
    alone = bench_targets([_row("weights.h5", 256, "onnx", 8.0)])[0]  # no peers ran: no ratios
    assert "ratio_to_mediapipe" not in alone and "ratio_to_deeplab" not in alone


def test_every_peer_is_tried_by_default_and_skipped_with_a_reason_when_absent(tmp_path, monkeypatch):
    from personseg.backends import mediapipe
    from personseg.bench.variants import bench_peers

    monkeypatch.setattr(mediapipe, "cache_path", lambda: tmp_path / "cache" / "selfie_segmentation.tflite")
    monkeypatch.delenv("PERSONSEG_MEDIAPIPE_TFLITE", raising=False)
    logged = []
    rows, skipped = bench_peers(Settings.quick(peers_dir=str(tmp_path)), [], tmp_path, log=logged.append)
    assert rows == [] and [s["model"] for s in skipped] == list(PEERS)
    for s in skipped:
        assert s["peer"] is True and PEERS[s["model"]].file in s["reason"] and str(tmp_path) in s["reason"]
    assert len(logged) == len(PEERS) and all(line.startswith("skip ") for line in logged)


def test_unknown_backend_and_missing_weights_are_user_errors(tmp_path):
    from personseg.errors import UserError

    with pytest.raises(UserError, match="onnx-int4.*choose from"):
        run_bench({"x": tmp_path / "x.h5"}, Settings.quick(variants=["onnx-int4"]))
    with pytest.raises(UserError, match="weights file not found"):
        run_bench({"x": tmp_path / "x.h5"}, Settings.quick())
    with pytest.raises(UserError, match="peers='peer:nope': no peer of that name; give peer:{deeplabv3-mnv2"):
        run_bench({"x": tmp_path / "x.h5"}, Settings.quick(peers=("nope",)))


def test_bench_cli_peer_options(tmp_path):
    from personseg.cli.bench import parse_models, parse_peers
    from personseg.errors import UserError

    assert parse_peers(None) is None and parse_peers("none") == ()
    assert parse_peers("pphumanseg, mediapipe-selfie") == ("pphumanseg", "mediapipe-selfie")
    with pytest.raises(UserError, match="is a peer's name"):
        parse_models([f"pphumanseg={tmp_path / 'x.h5'}"])
