"""`personseg export`: write an ONNX / TFLite / SavedModel file and prove it matches Keras."""

from __future__ import annotations

import argparse

from personseg.cli.options import READ, READ_ROOT, WRITE

PATHS = {"weights": READ, "out": WRITE, "calibration": READ_ROOT}  # default --out: a new suffix


def add_arguments(parser: argparse.ArgumentParser) -> None:
    from personseg.backends.refs import KERAS_KINDS, expected
    from personseg.export import FORMATS, QUANTIZATIONS

    parser.add_argument("--weights", required=True, metavar="FILE|pretrained:NAME",
                        help=f"the Keras model: {expected(KERAS_KINDS)} (a run's model.h5, weights.h5, "
                             "a .keras checkpoint)")
    parser.add_argument("--format", required=True, choices=FORMATS)
    parser.add_argument("--quantize", default="none", choices=QUANTIZATIONS,
                        help="fp16 weights, or int8 from --calibration photos (default: none, float32)")
    size = parser.add_mutually_exclusive_group()
    size.add_argument("--size", type=int, help="fixed N×N input (default: the model's own fixed size)")
    size.add_argument("--dynamic", action="store_true", help="any H×W input (multiples of 32)")
    parser.add_argument("--out", help="output file (folder for savedmodel); default: next to --weights")
    parser.add_argument("--calibration", action="append", default=[], metavar="ROOT[:SPLIT]",
                        help="photos for int8 ranges and extra parity checks: a prepared root (its "
                             "images/SPLIT or images/ folder) or a plain folder of images; repeatable")
    parser.add_argument("--calibration-count", type=int, default=200, metavar="N",
                        help="how many calibration photos int8 uses (default: 200)")
    parser.add_argument("--opset", type=int, default=17, help="ONNX opset (default: 17)")


def run(args: argparse.Namespace) -> int:
    from personseg.extras import require_tensorflow

    require_tensorflow("personseg export")  # the converters read Keras models
    from personseg.export.exporter import export_model

    result = export_model(
        args.weights, args.format, quantize=args.quantize, size=args.size, dynamic=args.dynamic,
        out=args.out, calibration=args.calibration, calibration_count=args.calibration_count,
        opset=args.opset,
    )
    shape = f"{result.size}×{result.size}" if result.size else "any H×W (multiple of 32)"
    print(f"wrote {result.path} ({result.format}, {result.quantize}, input {shape}, "
          f"{result.bytes / 1e6:.2f} MB, {result.seconds:.1f} s)")
    if result.ops:
        top = ", ".join(f"{op} {n}" for op, n in sorted(result.ops.items(), key=lambda kv: -kv[1]))
        print(f"operators: {top}")
    print(f"parity with the Keras model ({result.tolerance.describe()}):")
    for row in result.parity:
        print(f"  {row.image:<24} {row.size:>4}px  max |Δp| {row.max_abs_diff:.2e}  "
              f"agreement {row.agreement:.3%}  {'ok' if row.ok else 'FAIL'}")
    if result.note:
        print(f"note: {result.note}")
    return 0
