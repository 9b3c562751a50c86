"""`personseg train`: CLI over personseg.train.TrainConfig."""

from __future__ import annotations

import argparse
import dataclasses
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from personseg.train import TrainConfig


# Where the decoder stops by default: the fastest setting that still meets the accuracy target
# (README, "Training"); full-resolution decoder stages cost more CPU time than the encoder.
DEFAULT_OUTPUT_STRIDE = {"unet": 4, "shallow": 2}


def _csv_ints(text: str) -> list[int]:
    return [int(v) for v in text.split(",") if v]


def add_arguments(p: argparse.ArgumentParser) -> None:
    p.add_argument("--data", nargs="+", metavar="ROOT[:SPLIT][@WEIGHT]",
                   help="training roots (prepared layout or flat images/ + masks/); "
                        "split defaults to 'train' when the root has one; weight = sampling weight")
    p.add_argument("--val", nargs="+", metavar="ROOT[:SPLIT]",
                   help="validation roots (split defaults to 'val'); best checkpoint is chosen on these")
    p.add_argument("--out", required=True, help="run folder (created; must be new unless --resume)")
    p.add_argument("--resume", action="store_true",
                   help="continue the run in --out from its last epoch (config read from the run)")
    g = p.add_argument_group("model")
    g.add_argument("--model", choices=["unet", "shallow"], default="unet")
    g.add_argument("--encoder", choices=["none", "mobilenetv2"], default="mobilenetv2")
    g.add_argument("--encoder-alpha", type=float, default=0.5, choices=[0.35, 0.5, 0.75, 1.0])
    g.add_argument("--encoder-weights", default="imagenet", help="imagenet | PATH to a .h5 | none")
    g.add_argument("--depth", type=int, default=4, help="U-Net levels (encoder none)")
    g.add_argument("--base-filters", type=int, default=32, help="U-Net first-level width (encoder none)")
    g.add_argument("--decoder-filters", type=_csv_ints, default=[128, 64, 48, 32, 16],
                   help="decoder widths from stride 16 to 1 (MobileNetV2 encoder)")
    g.add_argument("--shallow-filters", type=_csv_ints, default=[16, 32, 64, 128])
    g.add_argument("--no-separable", dest="separable", action="store_false",
                   help="plain instead of depthwise-separable convolutions (U-Net decoder; "
                        "shallow: all but the stem)")
    g.add_argument("--upsampling", choices=["bilinear", "transpose"], default="bilinear")
    g.add_argument("--output-stride", type=int, choices=[1, 2, 4], default=None,
                   help="stride at which the decoder stops; logits are upsampled bilinearly to "
                        "full size (default: 4 for unet, 2 for shallow; 1 = full-resolution decoder)")
    t = p.add_argument_group("training")
    t.add_argument("--size", type=int, default=256, help="training crop size (multiple of 32)")
    t.add_argument("--batch-size", type=int, default=8)
    t.add_argument("--epochs", type=int, default=None,
                   help="default 30; with --resume, a new total (the LR schedule is rescaled to it)")
    t.add_argument("--steps-per-epoch", type=int, help="default: training images / batch size")
    t.add_argument("--lr", type=float, default=1e-3, help="peak learning rate (after warm-up)")
    t.add_argument("--encoder-lr-multiplier", type=float, default=0.1,
                   help="pretrained-encoder learning rate = lr × this")
    t.add_argument("--warmup-epochs", type=float, default=1.0)
    t.add_argument("--weight-decay", type=float, default=1e-4)
    t.add_argument("--loss", choices=["bce_dice", "bce", "dice", "focal"], default="bce_dice")
    t.add_argument("--patience", type=int, default=0, help="early stopping on val IoU (0 = off)")
    t.add_argument("--seed", type=int, default=0)
    t.add_argument("--mixed-precision", choices=["none", "float16", "bfloat16"], default="none",
                   help="float16 on GPUs; bfloat16 on CPUs/TPUs that support it")
    t.add_argument("--distribute", choices=["none", "mirrored"], default="none",
                   help="mirrored = tf.distribute.MirroredStrategy over all GPUs")
    t.add_argument("--cpu-devices", type=int, default=0, help=argparse.SUPPRESS)
    t.add_argument("--deterministic", action="store_true",
                   help="TF op determinism (bit-exact reruns and resumes; slower)")


def config_from_args(args: argparse.Namespace) -> TrainConfig:
    """The run's TrainConfig: read from the run folder with --resume, else built from the flags."""
    from personseg.errors import UserError
    from personseg.train import TrainConfig

    if args.resume:
        config = TrainConfig.load(Path(args.out) / "config.json")
        config.out = args.out
        if args.epochs is not None and args.epochs != config.epochs:
            print(f"{args.out}: total epochs {config.epochs} -> {args.epochs} (cosine schedule rescaled)")
            config.epochs = args.epochs
            config.save(Path(args.out) / "config.json")
        return config
    if not args.data or not args.val:
        raise UserError("--data and --val are required (unless --resume)")
    values = dict(vars(args))
    values["epochs"] = 30 if args.epochs is None else args.epochs
    if args.output_stride is None:
        values["output_stride"] = DEFAULT_OUTPUT_STRIDE[args.model]
    fields = {f.name for f in dataclasses.fields(TrainConfig)}
    return TrainConfig(**{k: v for k, v in values.items() if k in fields})


def run(args: argparse.Namespace) -> int:
    from personseg.train import train

    config = config_from_args(args)
    train(config, resume=args.resume)
    print(f"run folder: {config.out}")
    return 0
