"""Segmenter: shapes and dtypes for any input, exact letterbox round trip, batching, loading."""

from __future__ import annotations

import subprocess
import sys

import numpy as np
import pytest

from personseg.errors import OptionError, UserError
from personseg.inference.letterbox import letterbox_geometry
from personseg.inference.segmenter import Segmenter
from tests.fakes import ChannelBackend, save_tiny_model


@pytest.fixture(scope="module")
def tiny_model(tmp_path_factory):
    return save_tiny_model(tmp_path_factory.mktemp("model") / "tiny.h5")


ODD_INPUTS = {
    "1x1": np.full((1, 1, 3), 200, np.uint8),
    "7x3000": np.random.default_rng(0).integers(0, 256, (7, 3000, 3), dtype=np.uint8),
    "3000x7": np.random.default_rng(1).integers(0, 256, (3000, 7, 3), dtype=np.uint8),
    "gray HxW": np.random.default_rng(2).integers(0, 256, (33, 21), dtype=np.uint8),
    "gray HxWx1": np.random.default_rng(3).integers(0, 256, (21, 33, 1), dtype=np.uint8),
    "rgba": np.random.default_rng(4).integers(0, 256, (50, 90, 4), dtype=np.uint8),
}


@pytest.mark.parametrize("name", list(ODD_INPUTS))
def test_output_is_float32_probabilities_at_the_input_resolution(name):
    image = ODD_INPUTS[name]
    seg = Segmenter(ChannelBackend(64))
    prob = seg.predict(image)
    assert prob.dtype == np.float32 and prob.shape == image.shape[:2]
    assert 0.0 <= prob.min() and prob.max() <= 1.0
    mask = seg.mask(image, threshold=0.5)
    assert mask.dtype == bool and mask.shape == image.shape[:2]
    np.testing.assert_array_equal(mask, prob >= 0.5)


@pytest.mark.parametrize("name", ["1x1", "7x3000", "gray HxW", "rgba"])
def test_real_keras_model_gives_the_same_shapes(tiny_model, name):
    seg = Segmenter.from_weights(tiny_model)
    assert seg.backend.input_size == (64, 64)
    prob = seg.predict(ODD_INPUTS[name])
    assert prob.dtype == np.float32 and prob.shape == ODD_INPUTS[name].shape[:2]
    assert np.isfinite(prob).all() and 0.0 <= prob.min() and prob.max() <= 1.0


@pytest.mark.parametrize("shape", [(64, 64), (40, 64), (64, 40), (63, 64), (64, 1), (1, 64), (64, 17)])
def test_letterbox_round_trip_is_exact_without_scaling(shape):
    """Longest side = model size: no resize either way, so the crop must give back the pixels."""
    rng = np.random.default_rng(sum(shape))
    image = rng.integers(0, 256, (*shape, 3), dtype=np.uint8)
    prob = Segmenter(ChannelBackend(64)).predict(image)
    np.testing.assert_array_equal(prob, image[..., 0].astype(np.float32) / np.float32(255))


def test_grayscale_and_rgba_are_converted_not_reinterpreted():
    rng = np.random.default_rng(5)
    gray = rng.integers(0, 256, (40, 64), dtype=np.uint8)
    seg = Segmenter(ChannelBackend(64))
    np.testing.assert_array_equal(seg.predict(gray), gray / np.float32(255))
    np.testing.assert_array_equal(seg.predict(gray[..., None]), gray / np.float32(255))
    rgba = rng.integers(0, 256, (64, 30, 4), dtype=np.uint8)
    np.testing.assert_array_equal(seg.predict(rgba), rgba[..., 0] / np.float32(255))


@pytest.mark.parametrize("shape", [(1, 1), (7, 3000), (3000, 7), (5, 9), (333, 101), (20, 10)])
def test_padding_never_leaks_into_the_output_when_scaling(shape):
    """A constant image maps to that constant everywhere; black padding would darken the border."""
    image = np.full((*shape, 3), 200, np.uint8)
    prob = Segmenter(ChannelBackend(64)).predict(image)
    np.testing.assert_allclose(prob, 200 / 255, atol=1e-6)


EDGE_CASES = [  # (shape, axis the edge crosses, position); wide images pad top/bottom, tall ones left/right
    ((300, 700), 1, 350), ((300, 700), 1, 123), ((300, 700), 0, 111), ((700, 300), 1, 100),
    ((700, 300), 0, 350), ((20, 10), 1, 3), ((10, 20), 0, 3), ((9, 1000), 1, 777), ((1000, 9), 0, 777),
]


@pytest.mark.parametrize("shape,axis,edge", EDGE_CASES)
def test_scaled_round_trip_keeps_edges_in_place(shape, axis, edge):
    """A step edge comes back within half a model pixel of where it was (no shift from padding)."""
    image = np.zeros((*shape, 3), np.uint8)
    index = [slice(None), slice(None)]
    index[axis] = slice(edge, None)
    image[tuple(index)] = 255
    prob = Segmenter(ChannelBackend(64)).predict(image)
    profile = prob[:, shape[1] // 2] if axis == 0 else prob[shape[0] // 2]
    crossing = int(np.argmax(profile >= 0.5))
    assert abs(crossing - edge) <= max(1.0, max(shape) / 128), (crossing, edge)
    margin = max(shape) // 32 + 1
    assert profile[: max(0, edge - margin)].max(initial=0) < 0.01
    assert profile[edge + margin :].min(initial=1) > 0.99


def test_letterbox_geometry_is_the_training_one():
    geo = letterbox_geometry(300, 700, 64)
    assert (geo.new_height, geo.new_width, geo.top, geo.left) == (27, 64, 18, 0)


def test_predict_batch_runs_in_batches_and_matches_single_predictions():
    rng = np.random.default_rng(6)
    images = [rng.integers(0, 256, (h, w, 3), dtype=np.uint8) for h, w in [(10, 20), (64, 64), (90, 30),
                                                                         (5, 5), (64, 7)]]
    backend = ChannelBackend(64)
    seg = Segmenter(backend)
    batched = seg.predict_batch(images, batch_size=2)
    assert backend.batch_sizes == [2, 2, 1]
    for image, prob in zip(images, batched, strict=True):
        np.testing.assert_array_equal(prob, seg.predict(image))
    with pytest.raises(OptionError, match="batch_size=0: must be at least 1"):  # a UserError: CLI says it
        seg.predict_batch(images, batch_size=0)


def test_keras_backend_output_is_the_models_own_output_cropped(tiny_model):
    import keras

    model = keras.models.load_model(tiny_model, compile=False)
    image = np.random.default_rng(7).integers(0, 256, (40, 64, 3), dtype=np.uint8)
    canvas = np.zeros((1, 64, 64, 3), np.float32)
    canvas[0, 12:52] = image
    expected = model.predict(canvas, verbose=0)[0, 12:52, :, 0]
    np.testing.assert_allclose(Segmenter.from_weights(tiny_model).predict(image), expected, atol=1e-5)


def test_loading_errors_are_user_errors(tmp_path):
    with pytest.raises(UserError, match="not found"):
        Segmenter.from_weights(tmp_path / "missing.h5")
    with pytest.raises(UserError, match="pytorch.*choose from auto, keras"):
        Segmenter.from_weights(tmp_path / "missing.h5", backend="pytorch")
    bad = tmp_path / "bad.h5"
    bad.write_bytes(b"not a model")
    with pytest.raises(UserError, match="bad.h5"):
        Segmenter.from_weights(bad)

    class Rectangular:
        input_size = (64, 32)

    with pytest.raises(UserError, match="square"):
        Segmenter(Rectangular())


def test_import_personseg_stays_light_and_exports_segmenter_lazily():
    code = (
        "import sys, personseg\n"
        "heavy = [m for m in ('tensorflow', 'keras', 'cv2') if m in sys.modules]\n"
        "assert not heavy, heavy\n"
        "from personseg import Segmenter\n"
        "assert Segmenter.__module__ == 'personseg.inference.segmenter'\n"
        "assert 'tensorflow' not in sys.modules\n"
    )
    subprocess.run([sys.executable, "-c", code], check=True)


def test_tta_averages_the_mirrored_prediction_back_in_place():
    from tests.fakes import probability_image

    ramp = np.tile(np.linspace(0, 1, 32, dtype=np.float32), (32, 1))  # left dark, right bright
    image = probability_image(ramp)
    plain = Segmenter(ChannelBackend(32)).predict(image)
    both = Segmenter(ChannelBackend(32), tta=True).predict(image)
    np.testing.assert_allclose(plain, ramp, atol=0.01)
    # a channel "model" is mirror-equivariant: averaging with the un-mirrored mirror changes nothing
    np.testing.assert_allclose(both, plain, atol=1e-6)


def test_tta_runs_the_backend_twice_on_mirrored_canvases():
    class LeftHalf:
        """A 'model' that is not mirror-equivariant: person = left half of the canvas."""

        input_size = (16, 16)

        def __init__(self):
            self.calls = 0

        def predict(self, batch):
            self.calls += 1
            out = np.zeros(batch.shape[:3], np.float32)
            out[:, :, :8] = 1.0
            return out

    backend = LeftHalf()
    prob = Segmenter(backend, tta=True).predict(np.zeros((16, 16, 3), np.uint8))
    assert backend.calls == 2
    np.testing.assert_allclose(prob, 0.5)  # left half once, right half once (mirrored back)


def test_images_can_be_paths_bytes_or_pil(tmp_path):
    from PIL import Image

    from personseg.files import write_image
    from tests.fakes import probability_image

    image = probability_image(np.tile(np.linspace(0, 1, 40, dtype=np.float32), (30, 1)))
    write_image(tmp_path / "p.png", image)
    seg = Segmenter(ChannelBackend(32))
    expected = seg.predict(image)
    for given in (tmp_path / "p.png", str(tmp_path / "p.png"), (tmp_path / "p.png").read_bytes(),
                  Image.open(tmp_path / "p.png")):
        np.testing.assert_array_equal(seg.predict(given), expected)
    with pytest.raises(UserError, match="image bytes: not a readable image"):
        seg.predict(b"not an image")
