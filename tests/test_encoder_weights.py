"""scripts/encoder_weights.py: a trained U-Net's encoder, written so another decoder starts from it."""

from __future__ import annotations

import importlib.util

import numpy as np
import pytest

from personseg.errors import UserError
from personseg.models import build_model
from personseg.training.config import TrainConfig
from tests.conftest import REPO

UNET = {"encoder": "mobilenetv2", "encoder_alpha": 0.35, "decoder_filters": [16, 8, 8, 8, 4],
        "output_stride": 4}


def load_script():
    spec = importlib.util.spec_from_file_location("encoder_weights", REPO / "scripts" / "encoder_weights.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def _run(tmp_path, **options):
    """A run folder (model.h5 + config.json) of a U-Net whose weights are not the initial ones."""
    config = TrainConfig(data=[], val=[], out=str(tmp_path), encoder_weights="none", **options)
    model = build_model(config.model, (64, 64, 3), **config.model_options())
    rng = np.random.default_rng(0)
    model.set_weights([w + rng.normal(0, 0.1, w.shape).astype(w.dtype) for w in model.get_weights()])
    model.save(tmp_path / "model.h5")
    config.save(tmp_path / "config.json")
    return model


def test_a_slim_unet_starts_from_the_trained_encoder(tmp_path):
    trained = _run(tmp_path, **UNET)
    out = tmp_path / "encoder.weights.h5"
    assert load_script().extract(str(tmp_path / "model.h5"), out) > 100
    slim = build_model("unet", (64, 64, 3), encoder_weights=out, encoder_last_conv=False,
                       **{**UNET, "decoder_filters": (8, 8, 8, 8, 8)})
    for name in ("Conv1", "block_6_expand", "block_16_project_BN"):
        pairs = zip(slim.get_layer(name).get_weights(), trained.get_layer(name).get_weights(), strict=True)
        for got, want in pairs:
            np.testing.assert_array_equal(got, want)


def test_models_without_that_encoder_and_bad_names_are_refused(tmp_path):
    _run(tmp_path, model="shallow", shallow_filters=[4, 8])
    with pytest.raises(UserError, match="no MobileNetV2 encoder"):
        load_script().extract(str(tmp_path / "model.h5"), tmp_path / "e.weights.h5")
    (tmp_path / "u").mkdir()
    _run(tmp_path / "u", **UNET)
    with pytest.raises(UserError, match=r"must end in \.weights\.h5"):
        load_script().extract(str(tmp_path / "u" / "model.h5"), tmp_path / "e.h5")
    assert not list(tmp_path.glob("e*.h5"))


def test_a_model_of_another_width_than_its_config_says_is_a_clear_error(tmp_path):
    _run(tmp_path, **UNET)
    config = TrainConfig.load(tmp_path / "config.json")
    config.encoder_alpha = 0.5  # the config now lies about the file beside it
    config.save(tmp_path / "config.json")
    with pytest.raises(UserError, match="does not fit MobileNetV2 alpha=0.5"):
        load_script().extract(str(tmp_path / "model.h5"), tmp_path / "e.weights.h5")
    assert not list(tmp_path.glob("e*.h5"))
