"""`personseg train`: flags over `personseg.training.TrainConfig`, whose fields hold the defaults."""

from __future__ import annotations

import argparse
import dataclasses
from pathlib import Path

from personseg.training.config import TrainConfig


def _csv_ints(text: str) -> list[int]:
    return [int(v) for v in text.split(",") if v]


def _csv_floats(text: str) -> list[float]:
    return [float(v) for v in text.split(",") if v]


def add_arguments(p: argparse.ArgumentParser) -> None:
    d = TrainConfig.defaults()
    p.add_argument("--data", nargs="+", metavar="ROOT[:SPLIT][@WEIGHT]",
                   help="training roots (prepared layout or flat images/ + masks/); "
                        "split defaults to 'train' when the root has one; weight = sampling weight")
    p.add_argument("--val", nargs="+", metavar="ROOT[:SPLIT]",
                   help="validation roots (split defaults to 'val'); best checkpoint is chosen on these")
    p.add_argument("--out", required=True, help="run folder (created; must be new unless --resume)")
    p.add_argument("--resume", action="store_true",
                   help="continue the run in --out from its last epoch (config read from the run)")
    g = p.add_argument_group("model")
    g.add_argument("--model", choices=["unet", "shallow"], default=d["model"])
    g.add_argument("--encoder", choices=["none", "mobilenetv2"], default=d["encoder"])
    g.add_argument("--encoder-alpha", type=float, default=d["encoder_alpha"],
                   choices=[0.35, 0.5, 0.75, 1.0])
    g.add_argument("--encoder-weights", default=d["encoder_weights"], help="imagenet | PATH to a .h5 | none")
    g.add_argument("--depth", type=int, default=d["depth"], help="U-Net levels (encoder none)")
    g.add_argument("--base-filters", type=int, default=d["base_filters"],
                   help="U-Net first-level width (encoder none)")
    g.add_argument("--decoder-filters", type=_csv_ints, default=d["decoder_filters"],
                   help="decoder widths from stride 16 to 1 (MobileNetV2 encoder)")
    g.add_argument("--shallow-filters", type=_csv_ints, default=d["shallow_filters"])
    g.add_argument("--no-separable", dest="separable", action="store_false",
                   help="plain instead of depthwise-separable convolutions (U-Net decoder; "
                        "shallow: all but the stem)")
    g.add_argument("--upsampling", choices=["bilinear", "transpose"], default=d["upsampling"])
    g.add_argument("--output-stride", type=int, choices=[1, 2, 4], default=None,
                   help="stride at which the decoder stops; logits are upsampled bilinearly to "
                        "full size (default: 4 for unet, 2 for shallow; 1 = full-resolution decoder)")
    g.add_argument("--init", metavar="FILE|pretrained:NAME",
                   help="fine-tune: start from this trained model's weights (give the model options "
                        "it was built with, e.g. --encoder-alpha 1.0 for pretrained:unet)")
    t = p.add_argument_group("training")
    t.add_argument("--size", type=int, default=d["size"], help="training crop size (multiple of 32)")
    t.add_argument("--batch-size", type=int, default=d["batch_size"])
    t.add_argument("--epochs", type=int, default=None,
                   help=f"default {d['epochs']}; with --resume, a new total "
                        "(the LR schedule is rescaled to it)")
    t.add_argument("--steps-per-epoch", type=int, help="default: training images / batch size")
    t.add_argument("--lr", type=float, default=d["lr"], help="peak learning rate (after warm-up)")
    t.add_argument("--encoder-lr-multiplier", type=float, default=d["encoder_lr_multiplier"],
                   help="pretrained-encoder learning rate = lr × this")
    t.add_argument("--warmup-epochs", type=float, default=d["warmup_epochs"])
    t.add_argument("--weight-decay", type=float, default=d["weight_decay"])
    t.add_argument("--loss", choices=["bce_dice", "bce", "dice", "focal"], default=d["loss"])
    t.add_argument("--patience", type=int, default=d["patience"],
                   help="early stopping on val IoU (0 = off)")
    t.add_argument("--seed", type=int, default=d["seed"])
    t.add_argument("--mixed-precision", choices=["none", "float16", "bfloat16"],
                   default=d["mixed_precision"],
                   help="float16 on GPUs; bfloat16 on CPUs/TPUs that support it")
    t.add_argument("--distribute", choices=["none", "mirrored", "multiworker"], default=d["distribute"],
                   help="mirrored = tf.distribute.MirroredStrategy over all GPUs; multiworker = "
                        "MultiWorkerMirroredStrategy over the machines in TF_CONFIG (run the same "
                        "command on each; docs/training.md)")
    t.add_argument("--cpu-devices", type=int, default=d["cpu_devices"], help=argparse.SUPPRESS)
    t.add_argument("--zoom", type=_csv_floats, default=d["zoom"], metavar="MIN,MAX",
                   help="random scale range of the letterboxed photo (default: %(default)s)")
    t.add_argument("--copy-paste", type=float, default=d["copy_paste"], metavar="P",
                   help="share of samples that get another sample's people pasted in (0-1)")
    t.add_argument("--ema", type=float, default=d["ema"], metavar="MOMENTUM",
                   help="keep an exponential moving average of the weights (e.g. 0.999) and validate "
                        "and checkpoint with it (default: 0 = off)")
    t.add_argument("--bn-momentum", type=float, metavar="M",
                   help="momentum of the decoder's BatchNorm statistics (default: the builders' 0.9)")
    t.add_argument("--teacher", metavar="FILE|pretrained:NAME|peer:NAME",
                   help="distil from this model's person probabilities (computed once, cached)")
    t.add_argument("--teacher-weight", type=float, default=d["teacher_weight"],
                   help="weight of the teacher's soft map in the target (0-1; the rest is ground truth)")
    t.add_argument("--teacher-cache", metavar="DIR",
                   help="where teacher maps are cached (default: RUN/teacher_maps); share it between runs")
    t.add_argument("--deterministic", action="store_true",
                   help="TF op determinism (bit-exact reruns and resumes; slower)")


def config_from_args(args: argparse.Namespace) -> TrainConfig:
    """The run's TrainConfig: read from the run folder with --resume, else built from the flags."""
    from personseg.errors import UserError

    if args.resume:
        config = TrainConfig.load(Path(args.out) / "config.json")
        config.out = args.out
        if args.epochs is not None and args.epochs != config.epochs:
            print(f"{args.out}: total epochs {config.epochs} -> {args.epochs} (cosine schedule rescaled)")
            config = dataclasses.replace(config, epochs=args.epochs)  # checked like any config
            config.save(Path(args.out) / "config.json")
        return config
    if not args.data or not args.val:
        raise UserError("--data and --val are required (unless --resume)")
    values = {k: v for k, v in vars(args).items() if v is not None}
    fields = {f.name for f in dataclasses.fields(TrainConfig)}
    return TrainConfig(**{k: v for k, v in values.items() if k in fields})


def run(args: argparse.Namespace) -> int:
    from personseg.extras import require_tensorflow

    require_tensorflow("personseg train")
    from personseg.training.loop import train

    config = config_from_args(args)
    train(config, resume=args.resume)
    print(f"run folder: {config.out}")
    return 0
