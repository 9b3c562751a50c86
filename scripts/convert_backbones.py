"""Rebuild the MobileNetV2-1.0 encoder weights of `../shared/weights/backbones/` from public TFLite files.

    .venv/bin/python scripts/convert_backbones.py --out out/backbones \
        --check-against ../shared/weights/backbones

This script owns the recipe for two `keras.applications.MobileNetV2(alpha=1.0, include_top=False)`
weight files (load them with `weights=None` then `.load_weights(path)`, any input size):

- `mobilenet_v2_1.0_imagenet_from_tflite_no_top.weights.h5`, from `tf2_mobilenet_v2_1.0_224_ptq.tflite`
  (Coral's ImageNet MobileNetV2 1.0, int8 per-channel post-training quantised);
- `mobilenet_v2_1.0_deeplab_cocovoc_no_top.weights.h5`, the backbone of `deeplabv3_mnv2_pascal_quant.tflite`
  (DeepLabV3 trained on COCO then PASCAL VOC, uint8 per-tensor). DeepLab has no final 1x1 `Conv_1`:
  that layer and `Conv_1_bn` come from the ImageNet conversion. DeepLab runs its later blocks
  dilated; Keras runs the same weights at stride 32 (weights do not depend on dilation).

Recipe: the TFLite CONV_2D / DEPTHWISE_CONV_2D ops, in execution order, are Keras' convolution layers
in order (Conv1, expanded_conv_depthwise, expanded_conv_project, block_1_expand, ...); ops past
the backbone (the ImageNet classifier, DeepLab's ASPP and decoder) are ignored. Each filter is
dequantised as (q - zero_point) * scale along its quantized dimension and moved from
[out, kh, kw, in] (depthwise: [1, kh, kw, channels]) to Keras' [kh, kw, in, out] ([kh, kw, channels, 1]);
the int32 bias is dequantised with its own scale. BatchNorm is folded: every BatchNormalization
layer gets gamma = 1, beta = the bias, moving mean = 0, moving variance = 1 - epsilon, so the
layer computes exactly conv + bias in inference mode (keep it frozen when fine-tuning).
With `--check-against DIR` every weight array is compared with the same-named file in DIR; the
exit status is 1 when any differs by more than 1e-5.
"""

from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

import keras  # noqa: E402
import numpy as np  # noqa: E402

REPO = Path(__file__).resolve().parents[1]
WEIGHTS = Path(os.environ.get("PERSONSEG_SHARED", REPO.parent / "shared")) / "weights"
IMAGENET_TFLITE = WEIGHTS / "backbones" / "tf2_mobilenet_v2_1.0_224_ptq.tflite"
DEEPLAB_TFLITE = WEIGHTS / "peers" / "deeplabv3_mnv2_pascal_quant.tflite"
IMAGENET_NAME = "mobilenet_v2_1.0_imagenet_from_tflite_no_top.weights.h5"
DEEPLAB_NAME = "mobilenet_v2_1.0_deeplab_cocovoc_no_top.weights.h5"
TOLERANCE = 1e-5
CONV_OPS = ("CONV_2D", "DEPTHWISE_CONV_2D")


def dequantise(values: np.ndarray, params: dict) -> np.ndarray:
    """Float32 values of a quantised TFLite tensor: (q - zero_point) * scale, per tensor or per channel."""
    scales = np.asarray(params["scales"], np.float32)
    if scales.size == 0:  # not quantised
        return values.astype(np.float32)
    zero_points = np.asarray(params["zero_points"], np.float32)
    shape = [1] * values.ndim
    if scales.size > 1:
        shape[params["quantized_dimension"]] = scales.size
    return (values.astype(np.float32) - zero_points.reshape(shape)) * scales.reshape(shape)


def read_convolutions(tflite: Path) -> list[tuple[str, np.ndarray, np.ndarray]]:
    """(TFLite filter name, Keras-layout float kernel, float bias) of each convolution, in execution order."""
    from ai_edge_litert.interpreter import Interpreter, OpResolverType

    # No default (XNNPACK) delegate: it would add DELEGATE entries to the op list and is not needed
    # to read constants; preserve_all_tensors keeps every constant readable after allocation.
    interpreter = Interpreter(model_path=str(tflite), experimental_preserve_all_tensors=True,
                              experimental_op_resolver_type=OpResolverType.BUILTIN_WITHOUT_DEFAULT_DELEGATES)
    interpreter.allocate_tensors()
    tensors = {t["index"]: t for t in interpreter.get_tensor_details()}
    convolutions = []
    for op in interpreter._get_ops_details():  # execution order
        if op["op_name"] not in CONV_OPS:
            continue
        _, w, b = (tensors[i] for i in op["inputs"][:3])
        kernel = dequantise(interpreter.get_tensor(w["index"]), w["quantization_parameters"])
        bias = dequantise(interpreter.get_tensor(b["index"]), b["quantization_parameters"])
        # CONV_2D [out, kh, kw, in] -> [kh, kw, in, out]; DEPTHWISE [1, kh, kw, ch] -> [kh, kw, ch, 1]
        convolutions.append((w["name"], np.ascontiguousarray(kernel.transpose(1, 2, 3, 0)), bias))
    return convolutions


def mobilenet_v2() -> keras.Model:
    return keras.applications.MobileNetV2(alpha=1.0, include_top=False, weights=None)


def conv_bn_pairs(model: keras.Model) -> list[tuple[keras.layers.Layer, keras.layers.BatchNormalization]]:
    """Each convolution layer of MobileNetV2 with the BatchNormalization right after it, in order."""
    pairs = []
    for i, layer in enumerate(model.layers):
        if isinstance(layer, (keras.layers.Conv2D, keras.layers.DepthwiseConv2D)):
            bn = model.layers[i + 1]
            if not isinstance(bn, keras.layers.BatchNormalization) or layer.use_bias:
                raise RuntimeError(f"{layer.name}: expected a bias-free convolution followed by BatchNorm")
            pairs.append((layer, bn))
    return pairs


def assign(conv: keras.layers.Layer, bn: keras.layers.BatchNormalization, kernel: np.ndarray,
           bias: np.ndarray, source: str) -> None:
    """Put a folded convolution into `conv` + `bn`: bn computes x + bias in inference mode."""
    expected = tuple(conv.kernel.shape)
    if kernel.shape != expected:
        raise ValueError(f"{conv.name}: TFLite {source} has kernel {kernel.shape}, Keras wants {expected}")
    channels = bn.gamma.shape[0]
    if bias.shape != (channels,):
        raise ValueError(f"{conv.name}: TFLite {source} has bias {bias.shape}, Keras wants ({channels},)")
    conv.set_weights([kernel])
    bn.set_weights([np.ones(channels, np.float32), bias.astype(np.float32),
                    np.zeros(channels, np.float32), np.full(channels, 1 - bn.epsilon, np.float32)])


def convert(tflite: Path, last_layer: str) -> keras.Model:
    """MobileNetV2 1.0 with its convolutions up to and including `last_layer` taken from `tflite`."""
    model = mobilenet_v2()
    pairs = conv_bn_pairs(model)
    names = [conv.name for conv, _ in pairs]
    pairs = pairs[: names.index(last_layer) + 1]
    convolutions = read_convolutions(tflite)
    if len(convolutions) < len(pairs):
        raise ValueError(f"{tflite}: {len(convolutions)} convolutions, the backbone needs {len(pairs)}")
    for (conv, bn), (source, kernel, bias) in zip(pairs, convolutions[: len(pairs)], strict=True):
        assign(conv, bn, kernel, bias, source)
    return model


def save(model: keras.Model, path: Path) -> None:
    """Write atomically: Keras 3 wants a `.weights.h5` name, so save to a temporary one and rename."""
    tmp = path.with_name(path.name.removesuffix(".weights.h5") + ".partial.weights.h5")
    model.save_weights(tmp)
    os.replace(tmp, path)


def compare(path: Path, reference: Path) -> dict[str, float]:
    """Max |difference| per layer between two MobileNetV2 1.0 weight files (layers with weights only)."""
    mine, theirs = mobilenet_v2(), mobilenet_v2()
    mine.load_weights(path)
    theirs.load_weights(reference)
    diffs = {}
    for a, b in zip(mine.layers, theirs.layers, strict=True):
        arrays = list(zip(a.get_weights(), b.get_weights(), strict=True))
        if arrays:
            diffs[a.name] = max(float(np.max(np.abs(x - y))) for x, y in arrays)
    return diffs


def build(imagenet_tflite: Path, deeplab_tflite: Path, out: Path) -> dict[str, Path]:
    """Convert both files into `out`; returns {file name: path}."""
    out.mkdir(parents=True, exist_ok=True)
    imagenet = convert(imagenet_tflite, "Conv_1")
    deeplab = convert(deeplab_tflite, "block_16_project")
    for name in ("Conv_1", "Conv_1_bn"):  # DeepLab has no final 1x1 convolution
        deeplab.get_layer(name).set_weights(imagenet.get_layer(name).get_weights())
    written = {IMAGENET_NAME: out / IMAGENET_NAME, DEEPLAB_NAME: out / DEEPLAB_NAME}
    save(imagenet, written[IMAGENET_NAME])
    save(deeplab, written[DEEPLAB_NAME])
    return written


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0],
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--tflite-imagenet", type=Path, default=IMAGENET_TFLITE, help="default: %(default)s")
    parser.add_argument("--tflite-deeplab", type=Path, default=DEEPLAB_TFLITE, help="default: %(default)s")
    parser.add_argument("--out", type=Path, required=True, help="folder for the two .weights.h5 files")
    parser.add_argument("--check-against", type=Path, metavar="DIR",
                        help=f"compare with the same-named files in DIR; exit 1 if |diff| > {TOLERANCE:g}")
    args = parser.parse_args(argv)
    for path in (args.tflite_imagenet, args.tflite_deeplab):
        if not path.exists():
            parser.error(f"{path} is absent")
    if args.check_against is not None:
        for name in (IMAGENET_NAME, DEEPLAB_NAME):
            if not (args.check_against / name).exists():
                parser.error(f"--check-against: {args.check_against / name} is absent")
    written = build(args.tflite_imagenet, args.tflite_deeplab, args.out)
    for path in written.values():
        print(f"wrote {path}")
    if args.check_against is None:
        return 0
    ok = True
    for name, path in written.items():
        diffs = compare(path, args.check_against / name)
        worst = max(diffs, key=diffs.get)
        where = f" (worst: {worst})" if diffs[worst] > 0 else ""
        print(f"{name}: {len(diffs)} layers, max |diff| {diffs[worst]:.3g}{where}")
        for layer, diff in diffs.items():
            if diff > TOLERANCE:
                ok = False
                print(f"  {layer}: max |diff| {diff:.3g} > {TOLERANCE:g}")
    print("matches the reference files" if ok else "DIFFERS from the reference files")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
