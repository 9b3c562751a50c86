"""ONNX Runtime and LiteRT backends: same numbers as Keras, sizes, batching, threads, and a clear
error when the runtime is not installed."""

from __future__ import annotations

import sys

import numpy as np
import pytest

from personseg.backends import load_backend
from personseg.backends.onnx_backend import OnnxBackend
from personseg.backends.runtime import physical_cores
from personseg.backends.tflite_backend import TFLiteBackend
from personseg.errors import UserError
from personseg.inference.letterbox import letterbox_batch
from personseg.inference.sample_photos import sample_images
from tests.export_helpers import save_random_model

SIZE = 64


@pytest.fixture(scope="module")
def exported(tmp_path_factory):
    """A random 64×64 shallow model as .h5, and its ONNX / TFLite exports (fixed and dynamic)."""
    from personseg.export.exporter import export_model

    folder = tmp_path_factory.mktemp("backends")
    weights = save_random_model(folder / "model.h5", SIZE)
    files = {"h5": weights}
    for fmt in ("onnx", "tflite"):
        files[fmt] = export_model(weights, fmt, out=folder / f"model.{fmt}").path
        files[f"{fmt}-dynamic"] = export_model(weights, fmt, dynamic=True, out=folder / f"dyn.{fmt}").path
    return files


@pytest.fixture(scope="module")
def photos():
    batch, _ = letterbox_batch(list(sample_images().values()), SIZE)
    return batch


def keras_probabilities(weights, batch):
    return load_backend(weights, "keras").predict(batch)


@pytest.mark.parametrize("runtime", ["onnx", "tflite"])
def test_backend_matches_keras_on_photos(exported, photos, runtime):
    backend = load_backend(exported[runtime], runtime)
    assert backend.input_size == (SIZE, SIZE)
    out = backend.predict(photos)
    assert out.shape == (len(photos), SIZE, SIZE) and out.dtype == np.float32
    np.testing.assert_allclose(out, keras_probabilities(exported["h5"], photos), atol=1e-4)


@pytest.mark.parametrize("runtime", ["onnx", "tflite"])
def test_batch_equals_single_images(exported, photos, runtime):
    backend = load_backend(exported[runtime], runtime)
    together = backend.predict(np.concatenate([photos, photos[::-1]]))
    one_by_one = np.concatenate([backend.predict(photos[i : i + 1]) for i in range(len(photos))])
    np.testing.assert_allclose(together[: len(photos)], one_by_one, atol=1e-6)
    np.testing.assert_allclose(together[len(photos) :], one_by_one[::-1], atol=1e-6)


@pytest.mark.parametrize("runtime", ["onnx", "tflite"])
def test_dynamic_model_needs_a_size_and_runs_at_it(exported, runtime, tmp_path):
    path = exported[f"{runtime}-dynamic"]
    if runtime == "onnx":  # the export of a fixed-size model records that size: its default
        assert load_backend(path, runtime).input_size == (SIZE, SIZE)
        import onnx

        model = onnx.load(str(path))
        del model.metadata_props[:]
        path = tmp_path / "unsized.onnx"
        onnx.save(model, str(path))
    with pytest.raises(UserError, match="dynamic input size"):
        load_backend(path, runtime)
    with pytest.raises(UserError, match="multiple of 32"):
        load_backend(path, runtime, size=70)
    backend = load_backend(path, runtime, size=96)
    assert backend.input_size == (96, 96)
    batch, _ = letterbox_batch(list(sample_images().values()), 96)
    from personseg.models.loading import at_size, load_keras_model

    reference = at_size(load_keras_model(exported["h5"]), 96).predict(batch, verbose=0)[..., 0]
    np.testing.assert_allclose(backend.predict(batch), reference, atol=1e-4)


@pytest.mark.parametrize("runtime", ["onnx", "tflite"])
def test_fixed_model_rejects_another_size(exported, runtime):
    with pytest.raises(UserError, match="fixed 64×64"):
        load_backend(exported[runtime], runtime, size=128)


@pytest.mark.parametrize("runtime", ["onnx", "tflite"])
def test_threads_default_to_physical_cores_and_can_be_set(exported, runtime):
    assert load_backend(exported[runtime], runtime).threads == physical_cores()
    assert load_backend(exported[runtime], runtime, threads=1).threads == 1


def test_physical_cores_is_within_the_cpus_we_may_use():
    import os

    cores = physical_cores()
    usable = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count()
    assert 1 <= cores <= usable


@pytest.mark.parametrize("runtime,cls", [("onnx", OnnxBackend), ("tflite", TFLiteBackend)])
def test_not_a_model_file_is_a_user_error(tmp_path, runtime, cls):
    bad = tmp_path / f"bad.{runtime}"
    bad.write_bytes(b"not a model")
    with pytest.raises(UserError, match="cannot load"):
        cls(bad)


def test_missing_onnxruntime_says_what_to_install(exported, monkeypatch):
    monkeypatch.setitem(sys.modules, "onnxruntime", None)  # makes `import onnxruntime` fail
    with pytest.raises(UserError, match=r"onnxruntime, which is not installed.*pip install") as info:
        load_backend(exported["onnx"], "onnx")
    assert "personseg[export]" in str(info.value)


def test_missing_litert_says_what_to_install(exported, monkeypatch):
    monkeypatch.setitem(sys.modules, "ai_edge_litert", None)
    monkeypatch.setitem(sys.modules, "ai_edge_litert.interpreter", None)
    with pytest.raises(UserError, match=r"ai-edge-litert.*not installed.*pip install"):
        load_backend(exported["tflite"], "tflite")


def test_missing_runtime_is_exit_code_2_from_the_cli(exported, monkeypatch, tmp_path, capsys):
    from tests.cli_run import assert_error

    monkeypatch.setitem(sys.modules, "onnxruntime", None)
    import cv2

    image = tmp_path / "photo.jpg"
    cv2.imwrite(str(image), np.zeros((32, 32, 3), np.uint8))
    assert_error(capsys, "predict", image, "--weights", exported["onnx"], "--backend", "onnx",
                 "--out", tmp_path / "out", message="pip install")


def test_tflite_with_integer_input_and_output_is_fed_through_its_scales(exported, photos, tmp_path):
    """A model quantised including its I/O (uint8 in, uint8 out) still takes 0–255 floats and
    returns probabilities."""
    import keras
    import tensorflow as tf

    from personseg.export import converters

    model = keras.models.load_model(exported["h5"], compile=False)
    saved = tmp_path / "sm"
    converters.write_savedmodel(model, saved, batch=1)
    converter = tf.lite.TFLiteConverter.from_saved_model(str(saved))
    converter.optimizations = [tf.lite.Optimize.DEFAULT]
    converter.representative_dataset = lambda: ([photos[i : i + 1]] for i in range(len(photos)))
    converter.target_spec.supported_ops = [tf.lite.OpsSet.TFLITE_BUILTINS_INT8]
    converter.inference_input_type = tf.uint8
    converter.inference_output_type = tf.uint8
    path = tmp_path / "io8.tflite"
    path.write_bytes(converter.convert())

    backend = TFLiteBackend(path)
    _, source, result = backend._interpreter_for(backend.input_size)
    assert source["dtype"] == np.uint8 and result["dtype"] == np.uint8
    out = backend.predict(photos)
    assert out.dtype == np.float32 and 0.0 <= out.min() and out.max() <= 1.0
    reference = keras_probabilities(exported["h5"], photos)
    assert np.abs(out - reference).max() < 0.05  # 8-bit steps of the output are 1/256
