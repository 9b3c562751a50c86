"""Framing: the `fit` canvas (shaped like the photo, no more pixels than the square), how the
Segmenter groups photos by canvas, which runtimes take it, and that every runtime computes the
same thing on a canvas that is not the file's own square."""

from __future__ import annotations

import itertools

import numpy as np
import pytest

from personseg.backends import load_backend
from personseg.errors import OptionError, UserError
from personseg.inference.letterbox import STRIDE, canvas_for, fit_canvas, letterbox_geometry
from personseg.inference.segmenter import Segmenter
from tests.export_helpers import save_random_model
from tests.fakes import ChannelBackend

SIZE = 64


class AnySizeChannelBackend(ChannelBackend):
    """ChannelBackend that takes any H×W and records the canvases it was given."""

    any_size = True

    def __init__(self, size: int = SIZE):
        super().__init__(size)
        self.shapes: list[tuple[int, int, int]] = []

    def predict(self, batch: np.ndarray) -> np.ndarray:
        assert batch.shape[1] % STRIDE == 0 and batch.shape[2] % STRIDE == 0
        self.shapes.append(batch.shape[:3])
        return batch[..., 0] / 255.0


def _best_by_search(height: int, width: int, size: int) -> tuple[int, int]:
    """Every canvas of multiples of 32 within size² pixels: the largest scale, then the fewest pixels."""
    sides = range(STRIDE, size * size // STRIDE + 1, STRIDE)
    fits = [(h, w) for h, w in itertools.product(sides, sides) if h * w <= size * size]
    return max(fits, key=lambda c: (min(c[0] / height, c[1] / width), -c[0] * c[1]))


@pytest.mark.parametrize("size", [224, 320])
def test_fit_canvas_is_the_sharpest_within_the_squares_pixels(size):
    rng = np.random.default_rng(size)
    photos = [(640, 426), (426, 640), (720, 1280), (1280, 720), (500, 500), (480, 640), (1000, 100)]
    photos += [tuple(int(v) for v in rng.integers(50, 3000, 2)) for _ in range(60)]
    for height, width in photos:
        canvas = fit_canvas(height, width, size)
        assert canvas == _best_by_search(height, width, size), (height, width)
        assert canvas[0] % STRIDE == 0 and canvas[1] % STRIDE == 0
        assert canvas[0] * canvas[1] <= size * size
        fit, square = letterbox_geometry(height, width, canvas), letterbox_geometry(height, width, size)
        assert fit.new_height >= square.new_height and fit.new_width >= square.new_width


def test_fit_canvas_examples():
    assert fit_canvas(500, 500, 224) == (224, 224)  # a square photo: the square
    # (H, W) canvases; in the comments the photo's size inside it, width × height
    assert fit_canvas(640, 426, 224) == (256, 192)  # a 2:3 portrait: 192×256 instead of 149×224
    assert fit_canvas(720, 1280, 224) == (160, 288)  # 16:9 video: 284×160 instead of 224×126
    assert fit_canvas(np.int64(640), np.int64(426), 224) == (256, 192)
    assert letterbox_geometry(10, 20, np.int64(64)).canvas_width == 64  # numpy sizes too
    assert canvas_for(720, 1280, 224, "square") == (224, 224)


def test_fit_groups_photos_by_canvas_and_keeps_their_order():
    rng = np.random.default_rng(3)
    exact = [(64, 64), (32, 128), (128, 32), (32, 128), (64, 64), (32, 96)]  # their own canvas
    shapes = [*exact, (40, 100), (100, 41)]
    photos = [rng.integers(0, 256, (*shape, 3), dtype=np.uint8) for shape in shapes]
    backend = AnySizeChannelBackend()
    seg = Segmenter(backend, framing="fit")
    probs = seg.predict_batch(photos, batch_size=8)
    canvases = [seg.canvas(*shape) for shape in shapes]
    assert canvases[: len(exact)] == exact
    assert sorted(s[1:] for s in backend.shapes) == sorted(set(canvases))  # one batch per canvas
    assert sum(s[0] for s in backend.shapes) == len(photos)
    for photo, prob in zip(photos, probs, strict=True):
        assert prob.shape == photo.shape[:2]
    for photo, prob in zip(photos[: len(exact)], probs, strict=False):
        np.testing.assert_array_equal(prob, photo[..., 0] / np.float32(255))


def test_square_is_the_default_for_a_model_that_records_no_framing_and_fit_needs_a_free_size_runtime():
    fixed = ChannelBackend(SIZE)
    with pytest.raises(OptionError, match="framing.*runs only at 64×64.*any H×W"):
        Segmenter(fixed, framing="fit")
    with pytest.raises(OptionError, match=r"framing.*choose one of auto\|square\|fit"):
        Segmenter(AnySizeChannelBackend(), framing="wide")
    backend = AnySizeChannelBackend()
    seg = Segmenter(backend)
    assert seg.framing == "square"
    seg.predict(np.zeros((30, 90, 3), np.uint8))
    assert backend.shapes == [(1, SIZE, SIZE)]


@pytest.fixture(scope="module")
def model_files(tmp_path_factory):
    """A random 64×64 shallow model as .h5 and as fixed and free-size ONNX and TFLite exports."""
    from personseg.export.exporter import export_model

    folder = tmp_path_factory.mktemp("framing")
    weights = save_random_model(folder / "model.h5", SIZE)
    fixed = export_model(weights, "onnx", out=folder / "fixed.onnx").path
    dynamic = export_model(weights, "onnx", dynamic=True, out=folder / "dyn.onnx").path
    tflite = export_model(weights, "tflite", dynamic=True, out=folder / "dyn.tflite").path
    tflite_fixed = export_model(weights, "tflite", out=folder / "fixed.tflite").path
    return {"h5": weights, "onnx-fixed": fixed, "onnx-dynamic": dynamic, "tflite-dynamic": tflite,
            "tflite-fixed": tflite_fixed}


def test_keras_and_free_size_onnx_and_tflite_agree_on_a_fit_canvas(model_files):
    from personseg.models import build_model
    from personseg.models.loading import load_keras_model

    photo = np.random.default_rng(9).integers(0, 256, (150, 60, 3), dtype=np.uint8)
    keras_seg = Segmenter(load_backend(model_files["h5"], "keras"), framing="fit")
    onnx_seg = Segmenter(load_backend(model_files["onnx-dynamic"], "onnx"), framing="fit")
    assert onnx_seg.size == SIZE  # the free-size export recorded the size it was made at
    canvas = keras_seg.canvas(150, 60)
    assert canvas != (SIZE, SIZE)
    batch = keras_seg.preprocess(photo)[0][None].astype(np.float32)
    built = build_model("shallow", (*canvas, 3), filters=(8, 16, 32))  # save_random_model's, at the canvas
    built.set_weights(load_keras_model(model_files["h5"]).get_weights())
    reference = built(batch, training=False).numpy()[0, ..., 0]
    np.testing.assert_allclose(keras_seg.backend.predict(batch)[0], reference, atol=1e-5)
    np.testing.assert_allclose(onnx_seg.backend.predict(batch)[0], reference, atol=1e-4)
    np.testing.assert_allclose(keras_seg.predict(photo), onnx_seg.predict(photo), atol=1e-4)
    assert not load_backend(model_files["onnx-fixed"], "onnx").any_size
    tflite_seg = Segmenter(load_backend(model_files["tflite-dynamic"], size=SIZE), framing="fit")
    np.testing.assert_allclose(tflite_seg.backend.predict(batch)[0], reference, atol=1e-4)
    np.testing.assert_allclose(tflite_seg.predict(photo), keras_seg.predict(photo), atol=1e-4)


def test_onnx_pins_each_shape_in_its_own_session_and_keeps_a_few(model_files, monkeypatch):
    from personseg.backends import onnx_backend

    monkeypatch.setattr(onnx_backend, "SESSIONS_KEPT", 2)  # a small cache, to see it evict
    backend = load_backend(model_files["onnx-dynamic"], "onnx", size=SIZE)
    free = backend.session
    shapes = [(1, 64, 64), (2, 32, 96), (1, 96, 32), (1, 64, 64)]
    for n, h, w in shapes:
        batch = np.random.default_rng(h).uniform(0, 255, (n, h, w, 3)).astype(np.float32)
        feed = {free.get_inputs()[0].name: batch}
        np.testing.assert_allclose(backend.predict(batch), free.run(None, feed)[0][..., 0], atol=1e-5)
    assert list(backend._pinned) == [(1, 96, 32), (1, 64, 64)]  # the last two shapes
    pinned = backend._pinned[(1, 64, 64)].get_inputs()[0].shape
    assert pinned == [1, 64, 64, 3]


def test_tflite_gives_each_shape_its_own_interpreter_and_a_fixed_file_refuses_others(model_files,
                                                                                      monkeypatch):
    from personseg.backends import tflite_backend

    monkeypatch.setattr(tflite_backend, "INTERPRETERS_KEPT", 2)
    backend = load_backend(model_files["tflite-dynamic"], size=SIZE)
    assert backend.any_size
    for h, w in [(64, 64), (32, 96), (96, 32), (32, 96)]:
        batch = np.random.default_rng(h).uniform(0, 255, (2, h, w, 3)).astype(np.float32)
        assert backend.predict(batch).shape == (2, h, w)
    assert list(backend._interpreters) == [(96, 32), (32, 96)]  # the last two shapes
    fixed = load_backend(model_files["tflite-fixed"])
    assert not fixed.any_size
    with pytest.raises(UserError, match="takes 64×64 input only, got 32×96"):
        fixed.predict(np.zeros((1, 32, 96, 3), np.float32))


def test_cli_fit_on_a_fixed_size_file_is_a_clear_error_and_fit_on_a_free_one_writes_masks(
        model_files, tmp_path, capsys):
    from tests.cli_run import run_cli

    photo = tmp_path / "portrait.png"
    import cv2

    cv2.imwrite(str(photo), np.random.default_rng(4).integers(0, 256, (120, 60, 3), dtype=np.uint8))
    code, _, err = run_cli(capsys, "predict", photo, "--weights", model_files["onnx-fixed"],
                           "--framing", "fit", "--out", tmp_path / "out-fixed")
    assert code == 2 and "--framing" in err and "runs only at 64×64" in err
    assert not (tmp_path / "out-fixed").exists()
    code, _, err = run_cli(capsys, "predict", photo, "--weights", model_files["onnx-dynamic"],
                           "--framing", "fit", "--out", tmp_path / "out")
    assert code == 0, err
    (mask,) = (tmp_path / "out").rglob("*.png")
    assert cv2.imread(str(mask), cv2.IMREAD_UNCHANGED).shape[:2] == (120, 60)


def test_a_dynamic_keras_checkpoint_runs_several_fit_canvases(tmp_path):
    """A `.keras` saved with a free input size (a run's best.keras) goes through the free-size
    rebuild for every canvas but its own, so a second canvas shape does not break tracing."""
    import keras

    from personseg.models import build_model

    keras.utils.set_random_seed(0)
    path = tmp_path / "best.keras"
    build_model("shallow", (None, None, 3), filters=(4, 8)).save(path)
    seg = Segmenter(load_backend(path, "keras", size=SIZE), framing="fit")
    for shape in [(64, 64), (32, 128), (128, 32), (40, 100)]:
        assert seg.predict(np.zeros((*shape, 3), np.uint8)).shape == shape


def test_a_keras_model_that_cannot_take_another_size_refuses_fit(tmp_path):
    import keras

    inputs = keras.Input((32, 32, 3))
    flat = keras.layers.Dense(32 * 32, activation="sigmoid")(keras.layers.Flatten()(inputs))
    path = tmp_path / "dense.h5"
    keras.Model(inputs, keras.layers.Reshape((32, 32, 1))(flat)).save(path)
    backend = load_backend(path, "keras")
    assert not backend.any_size
    with pytest.raises(OptionError, match="framing.*runs only at 32×32"):
        Segmenter(backend, framing="fit")
    with pytest.raises(UserError, match="fixed 32×32 input; size=64 conflicts"):
        load_backend(path, "keras", size=64)
    assert Segmenter(backend).predict(np.zeros((20, 40, 3), np.uint8)).shape == (20, 40)


def test_an_onnx_input_with_one_name_for_both_sides_is_not_free_size(model_files, tmp_path):
    import onnx

    model = onnx.load(str(model_files["onnx-dynamic"]))
    dims = model.graph.input[0].type.tensor_type.shape.dim
    dims[2].dim_param = dims[1].dim_param  # H and W declared equal
    path = tmp_path / "square-only.onnx"
    onnx.save(model, str(path))
    backend = load_backend(path, "onnx")
    assert backend.input_size == (SIZE, SIZE) and not backend.any_size


def test_a_size_runs_a_fixed_model_at_that_size_on_keras_and_on_its_free_size_twin(model_files):
    from personseg.models import build_model
    from personseg.models.loading import load_keras_model

    batch = np.random.default_rng(5).uniform(0, 255, (1, 96, 96, 3)).astype(np.float32)
    built = build_model("shallow", (96, 96, 3), filters=(8, 16, 32))  # save_random_model's network
    built.set_weights(load_keras_model(model_files["h5"]).get_weights())
    reference = built(batch, training=False).numpy()[..., 0]
    for path, runtime in ((model_files["h5"], "keras"), (model_files["onnx-dynamic"], "onnx")):
        backend = load_backend(path, runtime, size=96)
        assert backend.input_size == (96, 96)
        np.testing.assert_allclose(backend.predict(batch), reference, atol=1e-4)


def test_auto_runs_the_framing_the_file_records_where_the_runtime_can(model_files, tmp_path):
    """A .h5 that records `fit` runs it by default on Keras and on its free-size ONNX export, which
    records it too; a fixed-size export cannot, so it runs `square`; a file that records nothing
    runs `square`; an explicit framing overrides the record."""
    import shutil

    from personseg.backends.metadata import FRAMING_KEY, h5_framing, set_h5_framing
    from personseg.export.exporter import export_model

    fit_h5 = tmp_path / "fit.h5"
    shutil.copyfile(model_files["h5"], fit_h5)
    set_h5_framing(fit_h5, "fit")
    assert h5_framing(fit_h5) == "fit" and h5_framing(model_files["h5"]) == "square"
    dynamic = export_model(fit_h5, "onnx", dynamic=True, out=tmp_path / "fit-dyn.onnx").path
    fixed = export_model(fit_h5, "onnx", out=tmp_path / "fit-fixed.onnx").path
    framings = {path.name: Segmenter(load_backend(path)).framing
                for path in (fit_h5, dynamic, fixed, model_files["h5"], model_files["onnx-dynamic"])}
    assert framings == {"fit.h5": "fit", "fit-dyn.onnx": "fit", "fit-fixed.onnx": "square",
                        "model.h5": "square", "dyn.onnx": "square"}
    import onnx

    assert FRAMING_KEY not in {p.key for p in onnx.load(str(fixed)).metadata_props}
    assert Segmenter(load_backend(fit_h5), framing="square").framing == "square"
    portrait = np.random.default_rng(6).integers(0, 256, (150, 60, 3), dtype=np.uint8)
    auto, fit = Segmenter(load_backend(dynamic)), Segmenter(load_backend(dynamic), framing="fit")
    np.testing.assert_array_equal(auto.predict(portrait), fit.predict(portrait))
    assert auto.canvas(150, 60) != (SIZE, SIZE)


def test_auto_runs_square_where_the_runtime_cannot_run_the_recorded_framing_and_says_so():
    class FitRecordingFixedBackend(ChannelBackend):
        framing, path = "fit", "m.tflite"

    seg = Segmenter(FitRecordingFixedBackend(SIZE))
    assert seg.framing == "square"
    assert seg.framing_note == ("m.tflite: records the fit framing, but this runtime takes only 64×64: "
                                "running square")
    assert Segmenter(AnySizeChannelBackend()).framing_note is None
    with pytest.raises(OptionError, match="runs only at 64×64"):
        Segmenter(FitRecordingFixedBackend(SIZE), framing="fit")


def test_exports_of_a_fit_file_say_what_they_carry(model_files, tmp_path):
    """Only a free-size ONNX export records the framing; the others say how to run it."""
    import shutil

    from personseg.backends.metadata import set_h5_framing
    from personseg.export.exporter import export_model

    fit_h5 = tmp_path / "fit.h5"
    shutil.copyfile(model_files["h5"], fit_h5)
    set_h5_framing(fit_h5, "fit")
    free = export_model(fit_h5, "tflite", dynamic=True, out=tmp_path / "fit-dyn.tflite")
    assert "does not carry it, so run it with --framing fit" in free.note
    assert Segmenter(load_backend(free.path, size=SIZE)).framing == "square"
    assert Segmenter(load_backend(free.path, size=SIZE), framing="fit").framing == "fit"
    fixed = export_model(fit_h5, "onnx", out=tmp_path / "fit-fixed.onnx")
    assert "fixed-size file runs square only" in fixed.note
    assert export_model(fit_h5, "onnx", dynamic=True, out=tmp_path / "fit-dyn.onnx").note is None
    assert export_model(model_files["h5"], "tflite", out=tmp_path / "plain.tflite").note is None
    opened = Segmenter.open(fit_h5)
    assert opened.source.framing == "fit"  # what a Ray worker opens it with


def test_a_file_that_records_an_unknown_framing_is_named(model_files, tmp_path):
    import shutil

    from personseg.backends.metadata import set_h5_framing

    path = tmp_path / "odd.h5"
    shutil.copyfile(model_files["h5"], path)
    set_h5_framing(path, "wide")
    with pytest.raises(UserError, match=r"odd\.h5: records framing 'wide'.*square, fit"):
        Segmenter(load_backend(path))
    assert Segmenter(load_backend(path), framing="square").framing == "square"  # asked for: not read
