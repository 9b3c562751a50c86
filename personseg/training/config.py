"""What a training run is: `TrainConfig`, the one place that holds every training default.

`personseg train`, the notebooks and `personseg.train(TrainConfig(...))` all read these
defaults, so they train the same model. A run folder keeps its config as `config.json`.
"""

from __future__ import annotations

import dataclasses
import json
from dataclasses import dataclass, field
from pathlib import Path

from personseg.errors import OptionError, UserError
from personseg.limits import check_number, check_size

# Where the decoder stops when the config does not say: the fastest setting that still meets
# the accuracy target (README, "Training"); full-resolution decoder stages cost more CPU time
# than the whole MobileNetV2 encoder. Its keys are the architectures (`models.BUILDERS`).
DEFAULT_OUTPUT_STRIDE = {"unet": 4, "shallow": 2}


def _field(default=None, help: str = "", *, factory=None, required: bool = False, group: str = "training",
           **meta):
    """A field with what `personseg train` shows for it: `help`, its flag `group`, and optional
    `choices` (checked here too), `metavar`, `hidden`, `arch` (a build option: the architecture)."""
    meta = {"help": help, "group": group, **meta}
    if required:
        return field(metadata=meta)
    if factory is not None:
        return field(default_factory=factory, metadata=meta)
    return field(default=default, metadata=meta)


def _arch(default=None, help: str = "", arch: bool = True, **meta):
    return _field(default, help, group="model", arch=arch, **meta)


@dataclass
class TrainConfig:
    """Every training option; field metadata says how `personseg train` offers it. `arch` fields
    are the build options a model file carries (`build_options`); the defaults build the
    shipped U-Net (`personseg/pretrained/unet.json`)."""

    data: list[str] = _field(help="training roots (prepared layout, flat images/ + masks/, or photos with "
                             "person boxes: images/ + boxes/, splits train/val/all); split defaults to "
                             "'train' when the root has one; weight = sampling weight",
                             metavar="ROOT[:SPLIT][@WEIGHT]", group="data", required=True)
    val: list[str] = _field(help="validation roots (split defaults to 'val'); best checkpoint is chosen "
                            "on these", metavar="ROOT[:SPLIT]", group="data", required=True)
    out: str = _field(help="run folder (created; must be new unless --resume)", group="data", required=True)
    model: str = _arch("unet", choices=tuple(DEFAULT_OUTPUT_STRIDE))
    size: int = _field(256, "training crop size (multiple of 32)")
    batch_size: int = _field(8)
    epochs: int = _field(30, "with --resume, a new total (the LR schedule is rescaled to it)")
    steps_per_epoch: int | None = _field(None, "default: training images / batch size")
    lr: float = _field(1e-3, "peak learning rate (after warm-up)")
    encoder_lr_multiplier: float = _field(0.1, "pretrained-encoder learning rate = lr × this")
    warmup_epochs: float = _field(1.0)
    weight_decay: float = _field(1e-4)
    loss: str = _field("bce_dice", choices=("bce_dice", "bce", "dice", "focal", "lovasz", "bce_lovasz"))
    patience: int = _field(0, "early stopping on val IoU (0 = off)")
    model_epoch: str = _field("best", "which epoch model.h5 holds: best by validation IoU, or the last "
                              "(decided before the run, so the validation set does not pick it)",
                              choices=("best", "last"))
    seed: int = _field(0)
    mixed_precision: str = _field("none", "float16 on GPUs; bfloat16 on CPUs/TPUs that support it",
                                  choices=("none", "float16", "bfloat16"))
    distribute: str = _field("none", "mirrored = tf.distribute.MirroredStrategy over all GPUs; multiworker = "
                             "MultiWorkerMirroredStrategy over the machines in TF_CONFIG (run the same "
                             "command on each; docs/training.md)",
                             choices=("none", "mirrored", "multiworker"))
    cpu_devices: int = _field(0, hidden=True)
    deterministic: bool = _field(False, "TF op determinism (bit-exact reruns and resumes; slower)")
    init: str | None = _arch(None, "fine-tune: start from this trained model's weights; a packaged model "
                             "or a run's model file brings its own architecture (no model flags needed)",
                             metavar="FILE|pretrained:NAME", arch=False)
    # distillation: teachers (model file, `pretrained:NAME` or `peer:NAME`; several combine by their
    # per-pixel maximum) and their weight in the target of photos with masks
    teacher: list[str] | None = _field(None, "distil from this model's person probabilities (computed once, "
                                       "cached); several teachers combine by their per-pixel maximum. "
                                       "Needed for photos with person boxes (a --data root with a boxes/ "
                                       "folder): their target is the teachers' map checked by the boxes",
                                       metavar="FILE|pretrained:NAME|peer:NAME")
    teacher_weight: float = _field(0.5, "weight of the teacher's soft map in the target of photos with "
                                   "masks (0-1; the rest is ground truth)")
    teacher_cache: str | None = _field(None, "where teacher maps are cached (default: RUN/teacher_maps); "
                                       "share it between runs", metavar="DIR")
    zoom: list[float] = _field(help="random scale range of the letterboxed photo", metavar="MIN,MAX",
                               factory=lambda: [0.6, 1.6])
    copy_paste: float = _field(0.0, "share of samples that get another sample's people pasted in (0-1)",
                               metavar="P")
    # stability: EMA of the weights (validation and checkpoints use it; 0 = off), decoder BatchNorm
    # momentum (None: the builders' 0.9, quick to adapt but noisy at small batches)
    ema: float = _field(0.0, "keep an exponential moving average of the weights (e.g. 0.999) and validate "
                        "and checkpoint with it (0 = off)", metavar="MOMENTUM")
    bn_momentum: float | None = _field(None, "momentum of the decoder's BatchNorm statistics (default: the "
                                       "builders' 0.9)", metavar="M")
    # architecture
    encoder: str = _arch("mobilenetv2", choices=("none", "mobilenetv2"))
    encoder_alpha: float = _arch(1.0, "MobileNetV2 width", choices=(0.35, 0.5, 0.75, 1.0, 1.3, 1.4))
    encoder_weights: str = _arch("imagenet", "imagenet | PATH to a .h5 | none", arch=False)
    encoder_last_conv: bool = _arch(True, "feed the decoder block 16's output instead of MobileNetV2's "
                                    "last 1×1 convolution to 1280 channels (cheaper)")
    depth: int = _arch(4, "U-Net levels (encoder none)")
    base_filters: int = _arch(32, "U-Net first-level width (encoder none)")
    separable: bool = _arch(True, "plain instead of depthwise-separable convolutions (U-Net decoder; "
                            "shallow: all but the stem)")
    upsampling: str = _arch("bilinear", choices=("bilinear", "transpose"))
    output_stride: int | None = _arch(None, "stride at which the decoder stops; logits are upsampled "
                                      "bilinearly to full size (default: 4 for unet, 2 for shallow; 1 = "
                                      "full-resolution decoder)", choices=(1, 2, 4))
    decoder_filters: list[int] = _arch(help="decoder widths from stride 16 to 1 (MobileNetV2 encoder)",
                                       factory=lambda: [128, 64, 48, 32, 16])
    shallow_filters: list[int] = _arch(help="shallow model widths, stem first",
                                       factory=lambda: [16, 32, 64, 128])

    def __post_init__(self) -> None:
        if isinstance(self.teacher, str):  # one teacher, as configs before several were allowed say
            self.teacher = [self.teacher]
        self._check_choices()
        self._check_numbers()
        self._check_models()
        if len(self.zoom) != 2 or not 0 < self.zoom[0] <= self.zoom[1]:
            raise OptionError("zoom", self.zoom, "expected MIN,MAX with 0 < MIN ≤ MAX")
        if not 0.0 <= self.ema < 1.0:
            raise OptionError("ema", self.ema, "must be in [0, 1): the EMA momentum, 0 = off")
        if self.bn_momentum is not None and not 0.0 < self.bn_momentum < 1.0:
            raise OptionError("bn_momentum", self.bn_momentum, "must be between 0 and 1")
        if not 0.0 <= self.copy_paste <= 1.0:
            raise OptionError("copy_paste", self.copy_paste, "must be between 0 and 1")
        if not self.encoder_last_conv and (self.model, self.encoder) != ("unet", "mobilenetv2"):
            raise OptionError("encoder_last_conv", False,
                              "only the U-Net's MobileNetV2 encoder has that convolution")
        if not 0.0 <= self.teacher_weight <= 1.0:
            raise OptionError("teacher_weight", self.teacher_weight, "must be between 0 and 1")
        if self.output_stride is None:  # the model's own default, written into config.json
            if self.model not in DEFAULT_OUTPUT_STRIDE:
                raise OptionError("model", self.model, "choose shallow or unet")
            self.output_stride = DEFAULT_OUTPUT_STRIDE[self.model]

    def _check_choices(self) -> None:
        """Every field with `choices` in its metadata holds one of them (None: the default)."""
        for f in dataclasses.fields(self):
            value, choices = getattr(self, f.name), f.metadata.get("choices")
            if choices and value is not None and value not in choices:
                raise OptionError(f.name, value, f"choose from {', '.join(map(str, choices))}")

    def _check_numbers(self) -> None:
        """Every number a run uses, checked when the config is made: before anything is written."""
        check_size(self.size)
        at_least_one = {"batch_size": self.batch_size, "epochs": self.epochs, "depth": self.depth,
                        "base_filters": self.base_filters, "steps_per_epoch": self.steps_per_epoch}
        for name, value in at_least_one.items():
            if value is not None and value < 1:
                raise OptionError(name, value, "must be at least 1")
        for name in ("lr", "encoder_lr_multiplier", "warmup_epochs", "weight_decay", "patience",
                     "cpu_devices"):
            check_number(name, getattr(self, name), 0)  # finite: `--lr nan` trains nothing
        for name in ("ema", "copy_paste", "teacher_weight", *(["bn_momentum"] if self.bn_momentum else [])):
            check_number(name, getattr(self, name))
        for value in self.zoom:
            check_number("zoom", value)
        for name in ("decoder_filters", "shallow_filters"):
            widths = getattr(self, name)
            if not widths or min(widths) < 1:
                raise OptionError(name, ",".join(map(str, widths)), "expected widths of at least 1")

    def _check_models(self) -> None:
        """`init` and every teacher name a model (`personseg.backends.refs`), checked up front."""
        from personseg.backends.refs import KERAS_KINDS, KINDS, parse_ref

        for option, value, kinds in (("init", self.init, KERAS_KINDS), ("teacher", self.teacher, KINDS)):
            for ref in [value] if isinstance(value, str) else value or []:
                parse_ref(ref, option, kinds)

    def model_options(self) -> dict:
        """Keyword arguments of the model builder that this config selects."""
        if self.model == "shallow":
            return {"filters": tuple(self.shallow_filters), **self._common_options()}
        if self.model == "unet":
            options = {**self._common_options(), "encoder": self.encoder}
            if self.encoder == "none":
                options.update(depth=self.depth, base_filters=self.base_filters)
            else:
                options.update(
                    encoder_alpha=self.encoder_alpha,
                    encoder_weights=None if self.encoder_weights == "none" else self.encoder_weights,
                    decoder_filters=tuple(self.decoder_filters),
                    encoder_last_conv=self.encoder_last_conv,
                )
            return options
        raise OptionError("model", self.model, "choose shallow or unet")

    def build_options(self) -> dict:
        """The architecture fields this config's model uses: what a model file's JSON carries
        (`personseg/pretrained/NAME.json`, a run's config.json)."""
        used = {"model", "separable", "upsampling", "output_stride"}
        if self.model == "shallow":
            used.add("shallow_filters")
        elif self.encoder == "none":
            used |= {"encoder", "depth", "base_filters"}
        else:
            used |= {"encoder", "encoder_alpha", "decoder_filters", "encoder_last_conv"}
        return {f.name: getattr(self, f.name) for f in dataclasses.fields(self) if f.name in used}

    @classmethod
    def for_run(cls, **fields) -> TrainConfig:
        """A new run's config from the fields given. With `init`, the build options come from the
        model it names (`build_options_of`): a field given here must agree with them."""
        from personseg.training.build_check import build_options_of

        built = build_options_of(fields["init"]) if fields.get("init") else {}
        for name, value in built.items():
            if fields.get(name, value) != value:
                raise OptionError(name, fields[name], f"{fields['init']} was built with {value}; leave "
                                  "the model options out with init")
        return cls(**{**built, **fields})

    def _common_options(self) -> dict:
        """Options both builders take."""
        return {
            "separable": self.separable, "upsampling": self.upsampling,
            "output_stride": self.output_stride,
        }

    @classmethod
    def defaults(cls) -> dict:
        """Every field's default (what the CLI shows and uses when a flag is not given)."""
        missing = dataclasses.MISSING
        return {f.name: f.default if f.default is not missing else f.default_factory()
                for f in dataclasses.fields(cls) if (f.default, f.default_factory) != (missing, missing)}

    def save(self, path: Path) -> None:
        from personseg.files import write_text  # OpenCV only when a config is written

        write_text(path, json.dumps(dataclasses.asdict(self), indent=2) + "\n")

    @classmethod
    def load(cls, path: Path) -> TrainConfig:
        try:
            values = json.loads(Path(path).read_text())
        except (OSError, json.JSONDecodeError) as exc:
            raise UserError(f"{path}: cannot read run config ({exc})") from exc
        if not isinstance(values, dict):
            raise UserError(f"{path}: not a run config (expected a JSON object)")
        known = {f.name for f in dataclasses.fields(cls)}
        try:
            return cls(**{k: v for k, v in values.items() if k in known})
        except OptionError as exc:
            raise UserError(f"{path}: {exc}") from None
        except (TypeError, ValueError) as exc:  # a field missing or of the wrong type
            raise UserError(f"{path}: not a valid run config ({exc})") from None

