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

# Where the decoder stops when the config does not say: the fastest setting that still meets
# the accuracy target (README, "Training"); full-resolution decoder stages cost more CPU time
# than the whole MobileNetV2 encoder.
DEFAULT_OUTPUT_STRIDE = {"unet": 4, "shallow": 2}


@dataclass
class TrainConfig:
    data: list[str]
    val: list[str]
    out: str
    model: str = "unet"
    size: int = 256
    batch_size: int = 8
    epochs: int = 30
    steps_per_epoch: int | None = None
    lr: float = 1e-3
    encoder_lr_multiplier: float = 0.1
    warmup_epochs: float = 1.0
    weight_decay: float = 1e-4
    loss: str = "bce_dice"
    patience: int = 0
    seed: int = 0
    mixed_precision: str = "none"
    distribute: str = "none"
    cpu_devices: int = 0
    deterministic: bool = False
    # fine-tuning: start from a trained model of the same architecture (file or `pretrained:NAME`)
    init: str | None = None
    # distillation: a teacher (model file, `pretrained:NAME` or `peer:NAME`) and its weight in the target
    teacher: str | None = None
    teacher_weight: float = 0.5
    teacher_cache: str | None = None  # default: <out>/teacher_maps/<teacher name>
    # augmentation: random scale range of the letterboxed photo, share of copy-pasted samples
    zoom: list[float] = field(default_factory=lambda: [0.6, 1.6])
    copy_paste: float = 0.0
    # stability: EMA of the weights (validation and checkpoints use it; 0 = off), decoder BatchNorm
    # momentum (None: the builders' 0.9, quick to adapt but noisy at small batches)
    ema: float = 0.0
    bn_momentum: float | None = None
    # architecture
    encoder: str = "mobilenetv2"
    encoder_alpha: float = 0.5
    encoder_weights: str = "imagenet"
    depth: int = 4
    base_filters: int = 32
    separable: bool = True
    upsampling: str = "bilinear"
    output_stride: int | None = None  # None: the model's default, DEFAULT_OUTPUT_STRIDE
    decoder_filters: list[int] = field(default_factory=lambda: [128, 64, 48, 32, 16])
    shallow_filters: list[int] = field(default_factory=lambda: [16, 32, 64, 128])

    def __post_init__(self) -> None:
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
        if not 0.0 <= self.teacher_weight <= 1.0:
            raise OptionError("teacher_weight", self.teacher_weight, "must be between 0 and 1")
        if self.output_stride is None:  # the model's own default, written into config.json
            if self.model not in DEFAULT_OUTPUT_STRIDE:
                raise OptionError("model", self.model, "choose shallow or unet")
            self.output_stride = DEFAULT_OUTPUT_STRIDE[self.model]

    def _check_numbers(self) -> None:
        """Every number a run uses, checked when the config is made: before anything is written."""
        if self.size <= 0 or self.size % 32:
            raise OptionError("size", self.size, "must be a positive multiple of 32")
        at_least_one = {"batch_size": self.batch_size, "epochs": self.epochs, "depth": self.depth,
                        "base_filters": self.base_filters, "steps_per_epoch": self.steps_per_epoch}
        for name, value in at_least_one.items():
            if value is not None and value < 1:
                raise OptionError(name, value, "must be at least 1")
        for name in ("lr", "encoder_lr_multiplier", "warmup_epochs", "weight_decay", "patience",
                     "cpu_devices"):
            if getattr(self, name) < 0:
                raise OptionError(name, getattr(self, name), "must not be negative")
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
                )
            return options
        raise OptionError("model", self.model, "choose shallow or unet")

    def _common_options(self) -> dict:
        """Options both builders take."""
        return {
            "separable": self.separable, "upsampling": self.upsampling,
            "output_stride": self.output_stride,
        }

    @classmethod
    def defaults(cls) -> dict:
        """Every field's default (what the CLI shows and uses when a flag is not given)."""
        values = {}
        for f in dataclasses.fields(cls):
            if f.default is not dataclasses.MISSING:
                values[f.name] = f.default
            elif f.default_factory is not dataclasses.MISSING:
                values[f.name] = f.default_factory()
        return values

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
