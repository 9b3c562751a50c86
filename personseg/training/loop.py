"""The training loop: a `TrainConfig` → a run folder with checkpoints, logs, curves and an inference model.

Run folder layout (everything a later session needs to resume or reproduce):
    config.json        the full TrainConfig
    log.csv            one row per epoch, always the epochs of the last committed backup
    curves.png         loss / IoU / Dice curves, redrawn every epoch
    best.keras         best epoch by validation IoU (full model + optimizer)
    backup/            the last two committed epochs: weights + optimizer state, log, best model
    tensorboard/       TensorBoard logs (append-only; a resumed run appends again)
    model.h5           best (or, with model_epoch "last", the last) weights as a plain
                       fixed-size inference model (no custom objects)
    summary.json       best epoch, its validation metrics, wall time
    teacher_maps/      with teachers: their cached probability maps of every training image (and
                       their maximum, and box photos' checked targets)

Every file is written under a temporary name and renamed when complete, so Ctrl-C, kill -9 or a
full disk never leave a damaged file; `--resume` continues from the last good backup
(`personseg.training.checkpoints`) and ends bit-identical to an uninterrupted `--deterministic` run.
"""

from __future__ import annotations

import json
import math
import time
from functools import partial
from pathlib import Path

import keras
import tensorflow as tf

from personseg.backends.refs import KERAS_KINDS, parse_ref
from personseg.data import pipeline as data_lib
from personseg.data.integrity import decode_failure
from personseg.disk import check_space, check_writable_folder, remove_stale_temps, write_error
from personseg.errors import OptionError, UserError
from personseg.files import atomic_path, write_text
from personseg.limits import check_size
from personseg.models import build_model
from personseg.models.encoders import MOBILENETV2_PREFIXES
from personseg.models.loading import at_size, save_h5, saved_bytes, start_from
from personseg.training import checkpoints
from personseg.training.config import TrainConfig
from personseg.training.curves import read_log
from personseg.training.losses import get_loss
from personseg.training.metrics import training_metrics
from personseg.training.optim import AdamWLayerLR, warmup_cosine


def _setup_runtime(config: TrainConfig):
    """Seeds, determinism, precision policy and distribution strategy (before any model)."""
    if config.cpu_devices > 1:  # split the CPU, e.g. to exercise MirroredStrategy without GPUs
        cpu = tf.config.list_physical_devices("CPU")[0]
        tf.config.set_logical_device_configuration(
            cpu, [tf.config.LogicalDeviceConfiguration()] * config.cpu_devices
        )
    keras.utils.set_random_seed(config.seed)
    if config.deterministic:
        tf.config.experimental.enable_op_determinism()
    policies = {"none": "float32", "float16": "mixed_float16", "bfloat16": "mixed_bfloat16"}
    if config.mixed_precision not in policies:
        raise OptionError("mixed_precision", config.mixed_precision, f"choose from {sorted(policies)}")
    keras.mixed_precision.set_global_policy(policies[config.mixed_precision])
    if config.distribute == "mirrored":
        gpus = tf.config.list_logical_devices("GPU")
        devices = [d.name for d in (gpus or tf.config.list_logical_devices("CPU"))]
        return tf.distribute.MirroredStrategy(devices=devices)
    if config.distribute == "multiworker":  # the cluster comes from TF_CONFIG
        from personseg.training.distribute import multiworker_strategy

        return multiworker_strategy()
    if config.distribute != "none":
        raise OptionError("distribute", config.distribute, "choose none, mirrored or multiworker")
    return tf.distribute.get_strategy()


def export_inference_model(trained, size: int, path: Path):
    """The trained network at a fixed size×size float32 input, saved as plain H5.

    The file then loads with `keras.models.load_model(path, compile=False)` in any TensorFlow
    install, without personseg, and its input shape tells every runtime what size to feed.
    """
    model = at_size(trained, size)
    check_space(path, saved_bytes(model))  # h5py crashes, not raises, when the disk fills mid-file
    with atomic_path(path) as tmp:
        save_h5(model, tmp)
    return model


def train(
    config: TrainConfig, resume: bool = False, verbose: int = 2, extra_callbacks: list | None = None
) -> Path:
    """Train (or resume) a run; return the run folder. See the module docstring for its files.

    With `distribute="multiworker"` every worker calls this; only the chief writes the run folder
    (`personseg.training.distribute`)."""
    if config.distribute == "multiworker":
        from personseg.training.distribute import worker_view

        with worker_view(config, resume) as this_worker:
            _train(this_worker, resume, verbose, extra_callbacks)
        return Path(config.out)
    return _train(config, resume, verbose, extra_callbacks)


def _train(config: TrainConfig, resume: bool, verbose: int, extra_callbacks: list | None) -> Path:
    run = Path(config.out)
    if run.exists() and not run.is_dir():
        raise UserError(f"{run}: run folder path is a file")
    remove_stale_temps(run)  # what a killed run was writing
    if resume:
        if not (run / "config.json").exists():
            raise UserError(f"{run}: no config.json, nothing to resume")
    elif run.exists() and any(run.iterdir()):
        raise UserError(f"{run}: run folder exists and is not empty (resume it to continue)")
    check_size(config.size)
    check_writable_folder(run)
    strategy = _setup_runtime(config)
    train_roots = data_lib.load_roots(config.data, "train")
    val_roots = data_lib.load_roots(config.val, "val")
    n_train = sum(len(r.pairs) for r in train_roots)
    steps = config.steps_per_epoch or max(1, math.ceil(n_train / config.batch_size))
    with strategy.scope():
        options = config.model_options()
        if config.init and "encoder_weights" in options:  # --init brings the encoder's weights too
            options["encoder_weights"] = None
        model = build_model(config.model, (None, None, 3), **options)
        if config.init and not resume:  # a resumed run's weights come from its checkpoint
            start_from(model, parse_ref(config.init, "init", KERAS_KINDS).keras_file())
        if config.bn_momentum is not None:  # the trainable (decoder) BatchNorms; the encoder's are frozen
            for layer in model.layers:
                if isinstance(layer, keras.layers.BatchNormalization) and layer.trainable:
                    layer.momentum = config.bn_momentum
        slow = MOBILENETV2_PREFIXES if config.model == "unet" and config.encoder != "none" else ()
        optimizer = AdamWLayerLR(
            learning_rate=warmup_cosine(config.lr, steps * config.epochs, int(steps * config.warmup_epochs)),
            weight_decay=config.weight_decay,
            slow_prefixes=slow,
            slow_multiplier=config.encoder_lr_multiplier,
            use_ema=config.ema > 0,
            ema_momentum=config.ema or 0.99,
        )
        model.compile(optimizer, loss=get_loss(config.loss), metrics=training_metrics(), jit_compile=False)
        state = checkpoints.restore(run, model) if resume else checkpoints.State()
    run.mkdir(parents=True, exist_ok=True)  # only now: a bad --init leaves no half-made run behind
    if not resume:
        config.save(run / "config.json")

    initial_epoch = state.epoch
    if initial_epoch >= config.epochs or state.stopped:
        why = "early stopping ended it" if state.stopped else f"of {config.epochs}"
        print(f"{run}: already trained for {initial_epoch} epochs ({why})")
        _finish(run, config, model, 0.0)
        return run
    maps, box_targets = _teacher_maps(config, train_roots, run)
    make_train = partial(
        data_lib.train_dataset,
        train_roots, size=config.size, batch_size=config.batch_size, steps_per_epoch=steps,
        epochs=config.epochs, initial_epoch=initial_epoch, seed=config.seed,
        teacher_maps=maps, teacher_weight=config.teacher_weight, box_targets=box_targets,
        zoom=tuple(config.zoom),
        copy_paste=config.copy_paste,
    )
    if config.distribute == "multiworker":  # each worker reads only its share of every batch
        from personseg.training.distribute import sharded_dataset

        train_ds = sharded_dataset(strategy, config.batch_size, make_train)
    else:
        train_ds = make_train()
    val_ds = data_lib.eval_dataset(val_roots, size=config.size, batch_size=config.batch_size)

    started = time.time()
    callbacks = [_EpochStats(optimizer, steps * config.batch_size)]  # first: it adds to the logs
    if config.ema > 0:  # validation and best.keras see the averaged weights; the backup keeps both
        swap = keras.callbacks.SwapEMAWeights(swap_on_epoch=True)
        swap._ema_weights_in_model = state.ema_swapped  # so its next epoch begins by swapping back
        callbacks.append(swap)
    callbacks += [
        checkpoints.Checkpoints(run, state, patience=config.patience, ema=config.ema > 0),
        keras.callbacks.TensorBoard(str(run / "tensorboard"), write_graph=False),
    ]
    callbacks += extra_callbacks or []
    try:
        model.fit(  # shuffle=False: the dataset is already shuffled, deterministically by seed and epoch
            train_ds, validation_data=val_ds, epochs=config.epochs, steps_per_epoch=steps,
            initial_epoch=initial_epoch, callbacks=callbacks, verbose=verbose, shuffle=False,
        )
    except UserError:
        raise  # already names its file (e.g. a checkpoint on a full disk)
    except Exception as exc:  # a full disk, or an image that passed the checks does not decode
        error = write_error(run, exc)
        if error is None and isinstance(exc, tf.errors.InvalidArgumentError):
            error = decode_failure(train_roots + val_roots)
        if error is None:
            raise
        raise error from exc
    _finish(run, config, model, time.time() - started)
    return run


def _teacher_maps(config: TrainConfig, roots, run: Path):
    """The teachers' cached (combined) maps of every training image, and the box-checked targets
    of box-set photos: (None, None) without a teacher."""
    if not config.teacher:
        return None, None
    from personseg.training.teacher import checked_maps, combined_maps, teachers_name

    cache = Path(config.teacher_cache) if config.teacher_cache else run / "teacher_maps"
    images = [pair.image for root in roots for pair in root.pairs]
    maps = combined_maps(images, config.teacher, cache)
    boxed = [sample for root in roots if root.boxes for sample in root.pairs]
    checked = cache / f"checked-{teachers_name(config.teacher)}"
    return maps, checked_maps(boxed, maps, checked) if boxed else None


class _EpochStats(keras.callbacks.Callback):
    """Adds the learning rate and training images/s to each epoch's logs (before Checkpoints logs them)."""

    def __init__(self, optimizer, images_per_epoch: int):
        super().__init__()
        self.optimizer = optimizer
        self.images_per_epoch = images_per_epoch

    def on_epoch_begin(self, epoch, logs=None):
        self._t0 = time.perf_counter()

    def on_epoch_end(self, epoch, logs=None):
        if logs is not None:
            logs["lr"] = float(keras.ops.convert_to_numpy(self.optimizer.learning_rate))
            logs["train_images_per_s"] = self.images_per_epoch / (time.perf_counter() - self._t0)


def _finish(run: Path, config: TrainConfig, model, seconds: float) -> None:
    """Write model.h5 from the best checkpoint (or, with `model_epoch="last"` or no checkpoint,
    the last weights) and summary.json."""
    best_path = run / "best.keras"
    if best_path.exists() and config.model_epoch == "best":
        try:
            best = keras.models.load_model(best_path, compile=False)
        except Exception as exc:
            raise UserError(f"{best_path}: cannot load the best checkpoint ({exc}); resume the run "
                            "with --resume to restore it from backup/") from exc
        model.set_weights(best.get_weights())
    export_inference_model(model, config.size, run / "model.h5")
    log = read_log(run / "log.csv") if (run / "log.csv").exists() else {}
    summary: dict = {"run": str(run), "fit_seconds_this_session": round(seconds, 1)}
    if log.get("val_iou"):
        best_i = max(range(len(log["val_iou"])), key=log["val_iou"].__getitem__)
        summary["best_epoch"] = int(log["epoch"][best_i]) + 1
        summary["best_val"] = {
            k[4:]: log[k][best_i] for k in log if k.startswith("val_") and len(log[k]) > best_i
        }
        summary["epochs_run"] = len(log["epoch"])
        summary["model_epoch"] = summary["best_epoch"] if config.model_epoch == "best" else len(log["epoch"])
    write_text(run / "summary.json", json.dumps(summary, indent=2) + "\n")
