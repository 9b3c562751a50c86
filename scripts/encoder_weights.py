"""Write a trained U-Net's MobileNetV2 encoder as a plain MobileNetV2 weights file, to start a
*different* decoder from it (`personseg train --encoder-weights FILE`): `--init` needs the same
architecture, this needs only the same encoder.

    .venv/bin/python scripts/encoder_weights.py pretrained:fast --out runs/fast-encoder.weights.h5

The file holds every layer of `keras.applications.MobileNetV2(alpha, include_top=False)` (the
final 1×1 convolution too, untrained if the U-Net never used it), with the U-Net's weights
wherever it has the layer.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

LAST_CONV = ("Conv_1", "Conv_1_bn")  # absent from a U-Net built without it (encoder_last_conv=False)


def extract(model_ref: str, out: Path) -> int:
    """Write `model_ref`'s encoder to `out` (a `.weights.h5` name); the number of layers copied."""
    import keras

    from personseg.backends.refs import KERAS_KINDS, parse_ref
    from personseg.errors import UserError
    from personseg.files import atomic_path
    from personseg.models.loading import load_keras_model
    from personseg.training.build_check import build_options_of

    if not out.name.endswith(".weights.h5"):
        raise UserError(f"{out}: the file name must end in .weights.h5 (Keras 3 weights files)")
    ref = parse_ref(model_ref, "model", KERAS_KINDS)  # a bad name is reported as this script's
    trained = load_keras_model(ref.keras_file())  # a missing or unreadable file: its own error
    options = build_options_of(model_ref)
    if options.get("encoder") != "mobilenetv2":
        raise UserError(f"{model_ref}: no MobileNetV2 encoder in its build options "
                        f"({options or 'none found'})")
    encoder = keras.applications.MobileNetV2(input_shape=(None, None, 3), include_top=False,
                                              weights=None, alpha=options["encoder_alpha"])
    names = {layer.name for layer in trained.layers}
    needed = [layer for layer in encoder.layers if layer.weights and layer.name not in LAST_CONV]
    missing = [layer.name for layer in needed if layer.name not in names]
    if missing:
        raise UserError(f"{model_ref}: not a MobileNetV2 alpha={options['encoder_alpha']:g} U-Net "
                        f"({len(missing)} encoder layers missing, e.g. {missing[0]})")
    copied = 0
    for layer in encoder.layers:
        if layer.weights and layer.name in names:
            try:
                layer.set_weights(trained.get_layer(layer.name).get_weights())
            except ValueError as exc:  # shapes: another width than its build options say
                raise UserError(f"{model_ref}: layer {layer.name} does not fit MobileNetV2 "
                                f"alpha={options['encoder_alpha']:g} ({exc})") from None
            copied += 1
    with atomic_path(out, suffix=".weights.h5") as partial:  # never half a file under `out`
        encoder.save_weights(partial)
    return copied


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("model", help="a U-Net with a MobileNetV2 encoder: pretrained:NAME or a run's "
                        "model file")
    parser.add_argument("--out", type=Path, required=True, help="the weights file to write (*.weights.h5)")
    args = parser.parse_args()
    from personseg.errors import UserError

    try:
        copied = extract(args.model, args.out)
    except UserError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    print(f"{args.out}: {copied} encoder layers copied from {args.model}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
