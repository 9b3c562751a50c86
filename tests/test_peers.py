"""Peers (published models by name): each opens as a backend and segments a real photo sensibly
through Segmenter's letterboxing, with its own pre/post-processing (a wrong one fails the same
checks); DeepLab's soft map agrees with its own arg-max; lookup errors are clear; the CLI runs one.

The model files live in ../shared/weights/peers (not in the repo): those tests skip without it.
"""

from __future__ import annotations

import dataclasses
import json
import re

import numpy as np
import pytest

from personseg.backends import load_backend
from personseg.backends.peer_backend import PeerBackend, open_peer
from personseg.backends.peers import ENV_DIR, PEERS, locate_peer, peer_dirs
from personseg.backends.runtime import physical_cores
from personseg.errors import OptionError, UserError
from personseg.inference.letterbox import letterbox_batch
from personseg.inference.sample_photos import sample_images
from personseg.inference.segmenter import Segmenter
from tests.conftest import SHARED, require

PEERS_DIR = SHARED / "weights" / "peers"
REFERENCE = "deeplabv3-mnv2"
needs_files = pytest.mark.shared_data


def peer_file(name: str):
    return require(PEERS_DIR / PEERS[name].file)


@pytest.fixture(scope="module")
def grace_hopper() -> np.ndarray:
    return sample_images()["grace_hopper"]


def person_mask(spec, photo: np.ndarray) -> np.ndarray:
    return Segmenter(PeerBackend(spec, peer_file(spec.name))).predict(photo) >= 0.5


@pytest.fixture(scope="module")
def reference_mask(grace_hopper) -> np.ndarray:
    return person_mask(PEERS[REFERENCE], grace_hopper)


def iou(a: np.ndarray, b: np.ndarray) -> float:
    return float((a & b).sum() / max(1, (a | b).sum()))


def check_grace_hopper(mask: np.ndarray, reference: np.ndarray) -> list[str]:
    """What is wrong with a person mask of grace_hopper.jpg (600×512): her face is person, the
    flag (top left) and the blue backdrop (top right) are not, and the mask matches DeepLab's."""
    h, w = mask.shape
    problems = []
    if mask[int(0.15 * h) : int(0.45 * h), int(0.3 * w) : int(0.7 * w)].mean() < 0.9:
        problems.append("face not person")
    for corner, cols in (("flag", slice(0, int(0.1 * w))), ("backdrop", slice(int(0.9 * w), w))):
        if mask[: int(0.1 * h), cols].mean() > 0.05:
            problems.append(f"{corner} corner is person")
    if iou(mask, reference) < 0.85:
        problems.append(f"IoU with {REFERENCE} only {iou(mask, reference):.2f}")
    return problems


@needs_files
@pytest.mark.parametrize("name", list(PEERS))
def test_each_peer_segments_grace_hopper(name, grace_hopper, reference_mask):
    peer_file(name)
    seg = Segmenter.from_weights(f"peer:{name}", peers_dir=PEERS_DIR)
    assert seg.backend.input_size == (PEERS[name].size,) * 2 and seg.backend.threads == physical_cores()
    prob = seg.predict(grace_hopper)
    assert prob.shape == grace_hopper.shape[:2] and prob.dtype == np.float32
    assert prob.min() < 0.05 and prob.max() > 0.95  # a probability map, not squashed into the middle
    assert check_grace_hopper(prob >= 0.5, reference_mask) == []


# the registered input transform replaced by a plausible wrong one: DeepLab's 8-bit models fed
# the float models' [-1, 1], the float models fed raw 0–255
WRONG = {name: (1 / 127.5, -1.0) if spec.scale == 1.0 else (1.0, 0.0) for name, spec in PEERS.items()}


@needs_files
@pytest.mark.parametrize("name", list(PEERS))
def test_a_wrong_normalisation_fails_the_same_checks(name, grace_hopper, reference_mask):
    scale, offset = WRONG[name]
    wrong = dataclasses.replace(PEERS[name], scale=scale, offset=offset)
    assert check_grace_hopper(person_mask(wrong, grace_hopper), reference_mask) != []


@needs_files
def test_inputs_are_fed_as_each_model_card_says():
    """Pixels 0, 127.5 and 255 in R, G, B: what each model is fed (shared/weights/README.md)."""
    pixel = np.array([0.0, 127.5, 255.0], np.float32).reshape(1, 1, 1, 3)
    expected = {"deeplabv3-mnv2": [0, 127.5, 255], "deeplabv3-mnv2-dm05": [0, 127.5, 255],
                "deeplabv3-257": [-1, 0, 1], "pphumanseg": [-1, 0, 1], "mediapipe-selfie": [0, 0.5, 1]}
    for name, values in expected.items():
        peer_file(name)
        backend = open_peer(name, peers_dir=PEERS_DIR)
        x = backend.preprocess(np.broadcast_to(pixel, (1, *backend.input_size, 3)))
        channels = x[0, :, 0, 0] if PEERS[name].layout == "NCHW" else x[0, 0, 0, :]
        np.testing.assert_allclose(channels, values, atol=1e-6, err_msg=name)
    assert open_peer("pphumanseg", peers_dir=PEERS_DIR).preprocess(np.zeros((2, 192, 192, 3))).shape == (
        2, 3, 192, 192)


@needs_files
@pytest.mark.parametrize("name", ["deeplabv3-mnv2", "deeplabv3-mnv2-dm05"])
def test_deeplab_soft_probability_agrees_with_its_own_argmax(name):
    peer_file(name)
    backend = open_peer(name, peers_dir=PEERS_DIR)
    batch, _ = letterbox_batch(list(sample_images().values()), 513)
    for image in batch:
        prob = backend.predict(image[None])[0]
        interpreter = backend._model.interpreter  # the model's own output: the arg-max label map
        labels = interpreter.get_tensor(interpreter.get_output_details()[0]["index"])[0]
        assert ((prob >= 0.5) == (labels == 15)).mean() >= 0.97
        assert ((prob > 0.05) & (prob < 0.95)).mean() > 0.01  # soft, not the label map


@needs_files
def test_pphumanseg_output_is_already_a_probability(grace_hopper):
    """The ONNX graph ends in a softmax: its two channels sum to 1, so the person channel is read
    as it is (a second softmax would squash it into [0.27, 0.73])."""
    peer_file("pphumanseg")
    backend = open_peer("pphumanseg", peers_dir=PEERS_DIR)
    batch, _ = letterbox_batch([grace_hopper], 192)
    raw = backend.raw(batch)
    assert raw.shape == (1, 2, 192, 192)
    np.testing.assert_allclose(raw.sum(axis=1), 1.0, atol=1e-4)
    np.testing.assert_array_equal(backend.predict(batch), raw[:, 1])


@needs_files
@pytest.mark.parametrize("name", ["pphumanseg", "mediapipe-selfie"])
def test_a_batch_runs_one_image_at_a_time_like_single_images(name):
    peer_file(name)
    backend = load_backend(f"peer:{name}", peers_dir=PEERS_DIR, threads=1)
    assert backend.threads == 1
    batch, _ = letterbox_batch(list(sample_images().values()), backend.input_size[0])
    together = backend.predict(np.concatenate([batch, batch[::-1]]))
    single = np.concatenate([backend.predict(batch[i : i + 1]) for i in range(len(batch))])
    np.testing.assert_allclose(together, np.concatenate([single, single[::-1]]), atol=1e-6)


def test_a_missing_peer_file_names_it_and_where_we_looked(tmp_path, monkeypatch):
    with pytest.raises(UserError) as info:
        open_peer("deeplabv3-mnv2", peers_dir=tmp_path)
    assert str(info.value).startswith("deeplabv3_mnv2_pascal_quant.tflite: file of peer 'deeplabv3-mnv2' "
                                      f"not found; looked in {tmp_path} (set {ENV_DIR}")
    monkeypatch.setenv(ENV_DIR, str(tmp_path / "env"))
    with pytest.raises(UserError, match=re.escape(f"looked in {tmp_path / 'env'} (set {ENV_DIR}")):
        load_backend("peer:pphumanseg")


def test_peers_folder_lookup_order(tmp_path, monkeypatch):
    monkeypatch.delenv(ENV_DIR, raising=False)
    monkeypatch.chdir(tmp_path)  # from the working directory only, never from the package's place
    assert peer_dirs() == [tmp_path.parent / "shared" / "weights" / "peers"]
    monkeypatch.setenv(ENV_DIR, str(tmp_path / "env"))
    assert peer_dirs() == [tmp_path / "env"]
    assert peer_dirs(tmp_path / "explicit") == [tmp_path / "explicit"]


@needs_files
def test_mediapipe_selfie_is_also_found_where_mediapipe_puts_it(tmp_path, monkeypatch):
    model = peer_file("mediapipe-selfie")
    monkeypatch.setenv("PERSONSEG_MEDIAPIPE_TFLITE", str(model))
    assert locate_peer("mediapipe-selfie", peers_dir=tmp_path) == model
    assert locate_peer("pphumanseg", peers_dir=tmp_path) is None


def test_unknown_peer_lists_the_known_names(tmp_path, capsys):
    from personseg.cli import main
    from tests.synthetic import make_root

    known = ",".join(PEERS)
    with pytest.raises(UserError, match=re.escape(f"no peer of that name; give a model file, "
                                                  f"pretrained:{{unet,fast,shallow}} or peer:{{{known}}}")):
        load_backend("peer:unknown")
    root = make_root(tmp_path, n=1, split="val", negatives=0)
    assert main(["evaluate", "--weights", "peer:unknown", "--data", str(root)]) == 2
    assert "error: --weights peer:unknown: no peer of that name; give" in capsys.readouterr().err


def test_a_peer_runs_on_its_own_runtime_and_size():
    with pytest.raises(OptionError, match="backend.*runs on onnx"):
        load_backend("peer:pphumanseg", "tflite")
    with pytest.raises(OptionError, match="size=256.*fixed 513×513"):
        load_backend("peer:deeplabv3-mnv2", size=256)


@needs_files
def test_cli_evaluate_and_predict_run_a_peer(tmp_path, monkeypatch, capsys):
    from personseg.cli import main
    from tests.synthetic import make_root

    peer_file("deeplabv3-mnv2")
    monkeypatch.setenv(ENV_DIR, str(PEERS_DIR))
    root = make_root(tmp_path / "data", n=3, split="val")
    capsys.readouterr()
    assert main(["evaluate", "--weights", "peer:deeplabv3-mnv2", "--data", str(root), "--json"]) == 0
    summary = json.loads(capsys.readouterr().out)
    assert summary["images"] == 3 and 0.0 <= summary["iou"] <= 1.0
    photo = next((root / "images" / "val").iterdir())
    assert main(["predict", str(photo), "--weights", "peer:deeplabv3-mnv2", "--out", str(tmp_path / "out"),
                 "--save", "mask"]) == 0
    assert (tmp_path / "out" / f"{photo.stem}_mask.png").is_file()
