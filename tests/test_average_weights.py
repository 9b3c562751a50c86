"""scripts/average_weights.py: a model soup is the element-wise mean of its models' weights."""

from __future__ import annotations

import importlib.util

import keras
import numpy as np
import pytest

from personseg.errors import UserError
from personseg.models import build_model
from tests.conftest import REPO


def load_script():
    spec = importlib.util.spec_from_file_location("average_weights", REPO / "scripts" / "average_weights.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_soup_is_the_mean_of_the_weights_at_the_requested_size(tmp_path):
    paths = []
    for seed in (1, 2):
        keras.utils.set_random_seed(seed)
        model = build_model("shallow", (None, None, 3), filters=(4, 8))
        model.set_weights([w + np.float32(seed) for w in model.get_weights()])
        paths.append(tmp_path / f"m{seed}.keras")
        model.save(paths[-1])
    soup = load_script().average(paths, 64)
    assert soup.input_shape == (None, 64, 64, 3)
    a, b = (keras.models.load_model(p, compile=False).get_weights() for p in paths)
    for got, x, y in zip(soup.get_weights(), a, b, strict=True):
        np.testing.assert_allclose(got, (x + y) / 2, rtol=1e-6)


def test_different_architectures_do_not_average(tmp_path):
    for name, filters in (("a", (4, 8)), ("b", (4, 16))):
        build_model("shallow", (None, None, 3), filters=filters).save(tmp_path / f"{name}.keras")
    with pytest.raises(UserError, match="not the architecture"):
        load_script().average([tmp_path / "a.keras", tmp_path / "b.keras"], 64)
