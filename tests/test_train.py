"""Training: loss goes down, runs resume exactly, MirroredStrategy on split CPUs, clear errors."""

from __future__ import annotations

import json
import subprocess
import sys

import h5py
import keras
import numpy as np
import pytest

from personseg.errors import OptionError, UserError
from personseg.training import TrainConfig, train
from tests.synthetic import make_root


def tiny_config(tmp_path, **overrides) -> TrainConfig:
    data = make_root(tmp_path / "data", n=8, split="train")
    make_root(tmp_path / "data", n=4, split="val", seed=1)
    values = dict(
        data=[f"{data}:train"], val=[f"{data}:val"], out=str(tmp_path / "run"), model="shallow",
        shallow_filters=[4, 8], size=32, batch_size=4, epochs=3, steps_per_epoch=2, lr=1e-2,
        warmup_epochs=0, deterministic=True,
    )
    values.update(overrides)
    return TrainConfig(**values)


def test_training_steps_lower_the_loss_on_a_tiny_synthetic_set(tmp_path):
    from personseg.data.pipeline import load_roots, train_dataset
    from personseg.models import build_model
    from personseg.training.losses import bce_dice_loss

    keras.utils.set_random_seed(0)
    config = tiny_config(tmp_path)
    roots = load_roots(config.data, "train")
    batch = next(iter(train_dataset(roots, size=32, batch_size=8, steps_per_epoch=1, epochs=1)))
    model = build_model("shallow", filters=(4, 8))
    model.compile(keras.optimizers.Adam(1e-2), loss=bce_dice_loss)
    losses = [float(model.train_on_batch(*batch)) for _ in range(15)]
    assert losses[-1] < losses[0] * 0.8, losses


class _Interrupt(keras.callbacks.Callback):
    """Stands in for Ctrl-C / a killed session at the start of epoch `at`."""

    def __init__(self, at: int):
        super().__init__()
        self.at = at

    def on_epoch_begin(self, epoch, logs=None):
        if epoch == self.at:
            raise KeyboardInterrupt


def check_run_folder(run) -> None:
    """Every file of the run folder is there, and model.h5 loads without personseg."""
    for name in ("config.json", "log.csv", "curves.png", "best.keras", "model.h5", "summary.json"):
        assert (run / name).is_file(), name
    summary = json.loads((run / "summary.json").read_text())
    assert summary["epochs_run"] == 3 and 1 <= summary["best_epoch"] <= 3
    # model.h5 is fixed-size and loads in a fresh interpreter that never imports personseg
    code = (
        "import sys, keras, numpy as np\n"
        f"m = keras.models.load_model({str(run / 'model.h5')!r}, compile=False)\n"
        "assert m.input_shape == (None, 32, 32, 3), m.input_shape\n"
        "y = m.predict(np.zeros((1, 32, 32, 3), 'float32'), verbose=0)\n"
        "assert y.shape == (1, 32, 32, 1)\n"
        "assert not any(k.startswith('personseg') for k in sys.modules)\n"
    )
    subprocess.run([sys.executable, "-c", code], check=True, cwd=run)
    with h5py.File(run / "model.h5") as f:  # an inference file: the optimizer's state stays out
        assert "model_weights" in f and "optimizer_weights" not in f, list(f)


def test_interrupted_run_resumed_ends_where_an_uninterrupted_run_ends(tmp_path):
    straight = train(tiny_config(tmp_path / "a"), verbose=0)
    check_run_folder(straight)
    config = tiny_config(tmp_path / "b")
    with pytest.raises(KeyboardInterrupt):
        train(config, verbose=0, extra_callbacks=[_Interrupt(at=2)])
    assert sorted(p.name for p in (tmp_path / "b/run/backup").glob("epoch-*")) == [
        "epoch-0001.json", "epoch-0001.weights.h5", "epoch-0002.json", "epoch-0002.weights.h5"]
    resumed = train(TrainConfig.load(tmp_path / "b/run/config.json"), resume=True, verbose=0)
    a = keras.models.load_model(straight / "model.h5", compile=False).get_weights()
    b = keras.models.load_model(resumed / "model.h5", compile=False).get_weights()
    for wa, wb in zip(a, b, strict=True):
        np.testing.assert_allclose(wa, wb, rtol=1e-5, atol=1e-6)
    log_a = (straight / "log.csv").read_text().splitlines()
    log_b = (resumed / "log.csv").read_text().splitlines()
    assert len(log_b) == len(log_a) == 4  # header + 3 epochs, the resumed one appended
    assert [row.split(",")[0] for row in log_b[1:]] == ["0", "1", "2"]


def test_encoder_learning_rate_multiplier_slows_only_encoder_variables():
    from personseg.training.optim import AdamWLayerLR

    inputs = keras.Input((2,))
    hidden = keras.layers.Dense(2, kernel_initializer="zeros", name="block_1_expand")(inputs)
    outputs = keras.layers.Dense(2, kernel_initializer="zeros", name="dec0_a_conv")(hidden)
    model = keras.Model(inputs, outputs)
    optimizer = AdamWLayerLR(
        learning_rate=0.1, weight_decay=0.0, slow_prefixes=("block_",), slow_multiplier=0.1
    )
    variables = model.trainable_variables
    optimizer.apply([np.ones(v.shape, "float32") for v in variables], variables)
    step = {v.path: np.asarray(v) for v in variables}
    # Adam's first step moves every weight by -lr whatever the gradient's size
    np.testing.assert_allclose(step["dec0_a_conv/kernel"], -0.1, rtol=1e-4)
    np.testing.assert_allclose(step["block_1_expand/kernel"], -0.01, rtol=1e-4)


def test_mirrored_strategy_on_two_logical_cpus(tmp_path):
    """tf.distribute.MirroredStrategy, exercised on a CPU split into two logical devices."""
    config = tiny_config(tmp_path, distribute="mirrored", cpu_devices=2, epochs=1, deterministic=False)
    config.save(tmp_path / "config.json")
    code = (
        "from personseg.training import TrainConfig, train\n"
        f"c = TrainConfig.load({str(tmp_path / 'config.json')!r})\n"
        "import tensorflow as tf\n"
        "run = train(c, verbose=0)\n"
        "assert len(tf.config.list_logical_devices('CPU')) == 2\n"
        "print('replicas', tf.distribute.get_strategy().num_replicas_in_sync)\n"
    )
    subprocess.run([sys.executable, "-c", code], check=True, cwd=tmp_path)
    assert (tmp_path / "run" / "model.h5").is_file()


def test_mixed_bfloat16_trains_and_ships_a_float32_model(tmp_path):
    run = train(tiny_config(tmp_path, mixed_precision="bfloat16", epochs=1), verbose=0)
    keras.mixed_precision.set_global_policy("float32")
    model = keras.models.load_model(run / "model.h5", compile=False)
    assert all(w.dtype == "float32" for w in model.weights)


def test_bad_inputs_give_clear_errors(tmp_path):
    with pytest.raises(UserError, match="missing: dataset root not found"):
        train(tiny_config(tmp_path, data=[str(tmp_path / "missing")]), verbose=0)
    (tmp_path / "empty" / "images").mkdir(parents=True)
    (tmp_path / "empty" / "masks").mkdir()
    with pytest.raises(UserError, match="no images found"):
        train(tiny_config(tmp_path, data=[str(tmp_path / "empty")], out=str(tmp_path / "r2")), verbose=0)
    root = make_root(tmp_path / "orphan", n=3, split=None)
    (root / "masks" / "img001.png").unlink()
    with pytest.raises(UserError, match=r"no mask for 1 image\(s\): img001.png"):
        train(tiny_config(tmp_path, data=[str(root)], out=str(tmp_path / "r3")), verbose=0)
    bad = make_root(tmp_path / "mismatch", n=2, split=None)
    import cv2

    cv2.imwrite(str(bad / "masks" / "img000.png"), np.zeros((10, 10), np.uint8))
    with pytest.raises(UserError, match="img000.*size"):
        train(tiny_config(tmp_path, data=[str(bad)], out=str(tmp_path / "r4")), verbose=0)
    (tmp_path / "run").mkdir()
    (tmp_path / "run" / "log.csv").write_text("epoch\n0\n")
    with pytest.raises(UserError, match="exists and is not empty"):
        train(tiny_config(tmp_path, epochs=1), verbose=0)
    with pytest.raises(UserError, match="multiple of 32"):
        train(tiny_config(tmp_path, size=40, out=str(tmp_path / "r5")), verbose=0)


def test_cli_defaults_stop_each_decoder_at_its_shipped_stride(tmp_path):
    import argparse

    from personseg.cli.train import add_arguments, config_from_args

    parser = argparse.ArgumentParser()
    add_arguments(parser)
    common = ["--data", "d", "--val", "v", "--out", str(tmp_path / "r")]
    assert config_from_args(parser.parse_args(common)).output_stride == 4
    shallow = config_from_args(parser.parse_args([*common, "--model", "shallow"]))
    assert (shallow.output_stride, shallow.separable) == (2, True)
    assert shallow.model_options() == {"filters": (16, 32, 64, 128), "separable": True,
                                       "upsampling": "bilinear", "output_stride": 2}
    full = config_from_args(parser.parse_args([*common, "--output-stride", "1", "--no-separable"]))
    assert full.model_options()["output_stride"] == 1 and not full.model_options()["separable"]


def test_ema_and_bn_momentum_train_validate_and_checkpoint_the_averaged_weights(tmp_path):
    config = tiny_config(tmp_path, ema=0.9, bn_momentum=0.99)
    run = train(config, verbose=0)
    check_run_folder(run)
    best = keras.models.load_model(run / "best.keras", compile=False)
    momenta = {layer.momentum for layer in best.layers if isinstance(layer, keras.layers.BatchNormalization)}
    assert momenta == {0.99}
    with pytest.raises(UserError, match="ema"):
        tiny_config(tmp_path, ema=1.0)


def test_init_fine_tunes_from_a_trained_model_and_refuses_another_architecture(tmp_path):
    from personseg.models import build_model

    keras.utils.set_random_seed(7)  # another initialisation than the run's seed 0 gives
    start = tmp_path / "start.h5"
    build_model("shallow", (32, 32, 3), **tiny_config(tmp_path).model_options()).save(start)
    # learning rate 0: the run's model must be the starting model, weight for weight
    run = train(tiny_config(tmp_path, init=str(start), lr=0.0, epochs=1), verbose=0)
    trained = keras.models.load_model(run / "model.h5", compile=False)
    original = keras.models.load_model(start, compile=False)
    for mine, theirs in zip(trained.trainable_weights, original.trainable_weights, strict=True):
        np.testing.assert_array_equal(mine.numpy(), theirs.numpy())
    config = tiny_config(tmp_path, init=str(start), shallow_filters=[4, 8, 16], out=str(tmp_path / "other"))
    with pytest.raises(UserError, match="start.h5: not the architecture this run builds"):
        train(config, verbose=0)
    assert not (tmp_path / "other").exists()  # nothing half-made left behind


def test_encoder_last_conv_is_refused_where_there_is_none():
    with pytest.raises(OptionError, match="only the U-Net's MobileNetV2 encoder"):
        TrainConfig(data=[], val=[], out="x", model="shallow", encoder_last_conv=False)
    error = OptionError("encoder_last_conv", False, "problem")
    assert error.flag_message() == "--no-encoder-last-conv: problem"
    assert OptionError("deterministic", True, "problem").flag_message() == "--deterministic: problem"


def test_defaults_are_every_optional_field_as_a_config_sets_it():
    """What the CLI offers and shows (`--deterministic` off, `--no-separable` on) comes from these."""
    import dataclasses

    config = TrainConfig(data=[], val=[], out="x")
    defaults = TrainConfig.defaults()
    optional = {f.name for f in dataclasses.fields(TrainConfig)} - {"data", "val", "out"}
    assert set(defaults) == optional
    assert {name: getattr(config, name) for name in optional if name != "output_stride"} == \
        {name: value for name, value in defaults.items() if name != "output_stride"}
