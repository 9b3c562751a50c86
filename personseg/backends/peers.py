"""Peers: published person-capable segmentation models, by name, run through the same code path as
ours (`Segmenter` letterboxing, `personseg evaluate`, `bench`, distillation teachers).

This module owns the registry (`PEERS`: each model's file, input and pre/post-processing, as
documented in shared/weights/README.md) and where peer files are found; it imports no runtime.
`peer_backend.py` runs them: `open_peer(name)`, `load_backend("peer:NAME")`, `--weights peer:NAME`.

Peer files are not part of the repository. They are looked up in one peers folder: the
`peers_dir` option when given, else `$PERSONSEG_PEERS_DIR`, else `../shared/weights/peers`
from the current directory. MediaPipe's selfie model is also found where
`personseg.backends.mediapipe` puts or finds it (`personseg bench --fetch-mediapipe`).
"""

from __future__ import annotations

import hashlib
import os
from dataclasses import dataclass
from pathlib import Path

from personseg.errors import UserError

ENV_DIR = "PERSONSEG_PEERS_DIR"
RELATIVE_DIR = Path("..") / "shared" / "weights" / "peers"


@dataclass(frozen=True)
class PeerSpec:
    """One peer model: what file it is and exactly how it is fed and read.

    Input: RGB 0–255 × `scale` + `offset`, cast to the model's input dtype (rounded and clipped for
    an integer input, whose own quantisation parameters are ignored), in `layout`.
    Output: the model's output, or the intermediate LiteRT tensor named `tensor`, dequantised;
    person probability = softmax over its channels at channel `person` when `softmax`, else that
    channel as it is (a model that outputs a probability).
    """

    name: str
    file: str
    runtime: str  # "tflite" (LiteRT) or "onnx" (ONNX Runtime)
    size: int  # square input side
    scale: float
    offset: float
    person: int
    softmax: bool
    tensor: str | None = None
    layout: str = "NHWC"
    quantize: str = "none"  # weights: "none" (float) or "int8"
    coco_trained: bool = False  # saw COCO train images: its COCO minival figures are optimistic
    about: str = ""


# DeepLab 8-bit: raw 0–255 uint8 in; its output is the arg-max label map, so the soft person
# probability comes from the 21-class scores before it (tensor ResizeBilinear_2), softmax, class 15
_DEEPLAB_QUANT = dict(runtime="tflite", size=513, scale=1.0, offset=0.0, person=15, softmax=True,
                      tensor="ResizeBilinear_2", quantize="int8", coco_trained=True)
PEERS: dict[str, PeerSpec] = {p.name: p for p in [
    PeerSpec("deeplabv3-mnv2", "deeplabv3_mnv2_pascal_quant.tflite", **_DEEPLAB_QUANT,
             about="DeepLabV3 MobileNetV2 1.0, COCO then PASCAL VOC, 8-bit (google-coral/test_data)"),
    PeerSpec("deeplabv3-mnv2-dm05", "deeplabv3_mnv2_dm05_pascal_quant.tflite", **_DEEPLAB_QUANT,
             about="DeepLabV3 MobileNetV2 width 0.5, COCO then PASCAL VOC, 8-bit (google-coral/test_data)"),
    # float, x/127.5 − 1; its output is 21-class logits
    PeerSpec("deeplabv3-257", "deeplabv3_257_mv_gpu.tflite", runtime="tflite", size=257,
             scale=1 / 127.5, offset=-1.0, person=15, softmax=True, coco_trained=True,
             about="TensorFlow Lite image-segmentation example: DeepLabV3 MobileNetV2, float, VOC classes "
                   "(DeepLab's VOC MobileNetV2 models start from COCO training)"),
    # NCHW, (x/255 − 0.5)/0.5. Its graph ends in Softmax: the output is already 2-class
    # probabilities (they sum to 1), so channel 1 is read as it is; a second softmax would
    # squash it into [0.27, 0.73] (same mask at 0.5, wrong soft map and threshold sweep)
    PeerSpec("pphumanseg", "human_segmentation_pphumanseg_2023mar_fp32.onnx", runtime="onnx", size=192,
             scale=1 / 127.5, offset=-1.0, person=1, softmax=False, layout="NCHW",
             about="PP-HumanSeg 2023mar (PaddleSeg via opencv_zoo), float"),
    # x/255; a sigmoid probability out
    PeerSpec("mediapipe-selfie", "selfie_segmentation.tflite", runtime="tflite", size=256,
             scale=1 / 255, offset=0.0, person=0, softmax=False,
             about="MediaPipe selfie segmenter, general 256×256 (mediapipe 0.10.21 wheel)"),
]}


def peer_dirs(peers_dir: str | os.PathLike | None = None) -> list[Path]:
    """The folders searched for peer files, in order (see the module docstring)."""
    if peers_dir:
        return [Path(peers_dir)]
    if os.environ.get(ENV_DIR):
        return [Path(os.environ[ENV_DIR])]
    return [Path(os.path.normpath(Path.cwd() / RELATIVE_DIR))]


def _extra_locations(name: str) -> list[Path]:
    if name != "mediapipe-selfie":
        return []
    from personseg.backends import mediapipe

    return mediapipe.known_locations()


def locate_peer(name: str, peers_dir: str | os.PathLike | None = None) -> Path | None:
    """The file of peer `name`, or None when it is in none of the places looked at."""
    spec = PEERS[name]  # a name `refs.parse_ref` checked
    for candidate in [folder / spec.file for folder in peer_dirs(peers_dir)] + _extra_locations(name):
        if candidate.is_file():
            return candidate
    return None


def find_peer(name: str, peers_dir: str | os.PathLike | None = None) -> Path:
    """Like `locate_peer`, but a missing file is a UserError naming it and where we looked."""
    path = locate_peer(name, peers_dir)
    if path is not None:
        return path
    spec = PEERS[name]
    looked = [str(p) for p in peer_dirs(peers_dir)] + [str(p) for p in _extra_locations(name)]
    hint = "; `personseg bench --fetch-mediapipe` downloads it" if name == "mediapipe-selfie" else ""
    raise UserError(f"{spec.file}: file of peer {name!r} not found; looked in {', '.join(looked)} "
                    f"(set {ENV_DIR} to the folder holding it{hint})")


def available_peers(peers_dir: str | os.PathLike | None = None) -> dict[str, Path]:
    """name → file of every registered peer whose file is found."""
    found = {name: locate_peer(name, peers_dir) for name in PEERS}
    return {name: path for name, path in found.items() if path is not None}


def sha256(path: str | os.PathLike) -> str:
    """Hex SHA-256 of a file (peer files are identified by it in benchmark reports)."""
    digest = hashlib.sha256()
    with open(path, "rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()
