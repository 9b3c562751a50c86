"""Model builders: output shapes for several input sizes, sigmoid range, plain-Keras saving."""

from __future__ import annotations

import numpy as np
import pytest

from personseg.models import build_model
from personseg.models.encoders import mobilenetv2_weights_filename

SIZES = [(32, 32), (64, 96), (96, 64)]


@pytest.mark.parametrize(
    "name, options",
    [
        ("shallow", {"filters": (4, 8, 16)}),
        ("shallow", {"filters": (4, 8, 16), "separable": True, "output_stride": 2}),
        ("unet", {"encoder": "none", "depth": 3, "base_filters": 4}),
        ("unet", {"encoder": "none", "depth": 2, "base_filters": 4, "separable": False,
                  "upsampling": "transpose"}),
        ("unet", {"encoder": "mobilenetv2", "encoder_alpha": 0.35, "encoder_weights": None,
                  "decoder_filters": (16, 8, 8, 8, 4)}),
        ("unet", {"encoder": "none", "depth": 3, "base_filters": 4, "output_stride": 4}),
        ("unet", {"encoder": "mobilenetv2", "encoder_alpha": 0.35, "encoder_weights": None,
                  "decoder_filters": (16, 8, 8, 8, 4), "output_stride": 4}),
    ],
)
def test_output_shape_matches_input_for_several_sizes(name, options):
    model = build_model(name, **options)
    for h, w in SIZES:
        x = np.random.default_rng(0).uniform(0, 255, (2, h, w, 3)).astype("float32")
        y = np.asarray(model(x))
        assert y.shape == (2, h, w, 1)
        assert np.all((y >= 0) & (y <= 1))


def test_output_stride_stops_the_decoder_early_and_upsamples_the_logits():
    full = build_model("unet", encoder="mobilenetv2", encoder_alpha=0.35, encoder_weights=None)
    early = build_model("unet", encoder="mobilenetv2", encoder_alpha=0.35, encoder_weights=None,
                        output_stride=4)
    names = {layer.name for layer in early.layers}
    assert {"dec4_a_conv", "dec3_a_conv", "dec2_b_conv", "logits_up"} <= names
    assert not {"dec1_a_conv", "dec0_a_conv"} & names
    x = np.zeros((1, 64, 64, 3), "float32")
    assert early.get_layer("logits_up").input.shape[-1] == 1
    assert np.asarray(early(x)).shape == np.asarray(full(x)).shape == (1, 64, 64, 1)
    assert early.count_params() < full.count_params()


def test_shallow_options_make_a_smaller_network():
    dense = build_model("shallow", (64, 64, 3))
    fast = build_model("shallow", (64, 64, 3), separable=True, output_stride=2)
    assert fast.get_layer("stem_conv").strides == (2, 2)
    assert fast.get_layer("logits").output.shape[1:3] == (32, 32)
    assert fast.count_params() < dense.count_params() / 4


def test_bad_output_stride_is_rejected():
    with pytest.raises(ValueError, match="output_stride must be one of"):
        build_model("unet", encoder="none", output_stride=3)
    with pytest.raises(ValueError, match="output_stride must be one of"):
        build_model("shallow", output_stride=4)
    with pytest.raises(ValueError, match="needs depth > 2"):
        build_model("unet", encoder="none", depth=2, output_stride=4)


def test_fixed_size_model_saves_and_loads_as_plain_keras(tmp_path):
    import keras

    model = build_model("unet", (64, 64, 3), encoder="none", depth=2, base_filters=4)
    model.save(tmp_path / "m.h5")
    loaded = keras.models.load_model(tmp_path / "m.h5", compile=False)
    x = np.full((1, 64, 64, 3), 128, "float32")
    np.testing.assert_allclose(np.asarray(loaded(x)), np.asarray(model(x)), atol=1e-6)
    assert loaded.input_shape == (None, 64, 64, 3)


def test_unknown_model_and_encoder_are_rejected():
    with pytest.raises(ValueError, match="unknown model"):
        build_model("segformer")
    with pytest.raises(ValueError, match="encoder must be"):
        build_model("unet", encoder="resnet")


def test_mobilenetv2_loads_offline_weights_from_path(encoder_weights):
    path = encoder_weights / mobilenetv2_weights_filename(0.35)
    with_weights = build_model("unet", encoder="mobilenetv2", encoder_alpha=0.35, encoder_weights=path)
    random_init = build_model("unet", encoder="mobilenetv2", encoder_alpha=0.35, encoder_weights=None)
    kernel = with_weights.get_layer("Conv1").get_weights()[0]
    assert not np.allclose(kernel, random_init.get_layer("Conv1").get_weights()[0])
    import h5py

    with h5py.File(path) as f:  # the first conv kernel is the file's, byte for byte
        stored = f["Conv1"]["Conv1"]["kernel:0"][()]
    np.testing.assert_array_equal(kernel, stored)


def test_imagenet_weights_come_from_the_keras_cache_without_network(encoder_weights, tmp_path, monkeypatch):
    """The code path users run with internet ('imagenet') works offline from a pre-seeded cache."""
    import shutil

    import keras

    name = mobilenetv2_weights_filename(0.35)
    (tmp_path / "models").mkdir()
    shutil.copy(encoder_weights / name, tmp_path / "models" / name)
    monkeypatch.setenv("KERAS_HOME", str(tmp_path))

    def no_download(*args, **kwargs):
        raise AssertionError("tried to download")

    monkeypatch.setattr("keras.src.utils.file_utils.urlretrieve", no_download)
    model = build_model("unet", encoder="mobilenetv2", encoder_alpha=0.35, encoder_weights="imagenet")
    from_path = build_model("unet", encoder="mobilenetv2", encoder_alpha=0.35,
                            encoder_weights=encoder_weights / name)
    np.testing.assert_array_equal(
        model.get_layer("block_16_project").get_weights()[0],
        from_path.get_layer("block_16_project").get_weights()[0],
    )
    assert keras.config.backend() == "tensorflow"


def test_missing_encoder_weights_file_is_a_clear_error(tmp_path):
    from personseg.errors import UserError

    with pytest.raises(UserError, match="nope.h5: encoder weights file not found"):
        build_model("unet", encoder="mobilenetv2", encoder_weights=tmp_path / "nope.h5")


def test_encoder_batchnorm_is_frozen_and_decoder_is_not():
    model = build_model("unet", encoder="mobilenetv2", encoder_alpha=0.35, encoder_weights=None)
    assert not model.get_layer("bn_Conv1").trainable
    assert model.get_layer("dec0_a_bn").trainable
    assert model.get_layer("Conv1").trainable


def test_describe_counts_multiply_adds_of_a_tiny_model_by_hand():
    import keras
    from keras import layers

    from personseg.models import describe

    inputs = keras.Input((8, 8, 3))
    x = layers.Conv2D(4, 3, padding="same", name="conv")(inputs)  # 8·8·4 outputs × 3·3·3 taps = 6,912
    x = layers.SeparableConv2D(6, 3, padding="same", name="sep")(x)  # 8·8·4·9 = 2,304 + 8·8·4·6 = 1,536
    x = layers.DepthwiseConv2D(3, strides=2, padding="same", name="dw")(x)  # 4·4·6·9 = 864
    x = layers.Conv2DTranspose(2, 2, strides=2, name="up")(x)  # 4·4·6 inputs × 2·2·2 = 768
    x = layers.Flatten(name="flat")(x)
    outputs = layers.Dense(5, name="dense")(x)  # 128 × 5 = 640
    model = keras.Model(inputs, outputs, name="tiny")
    description = describe(model)
    assert description.macs == 6912 + 2304 + 1536 + 864 + 768 + 640
    assert description.params == model.count_params() == 112 + 66 + 60 + 50 + 645
    assert description.output_shape == (None, 5) and description.size == (8, 8)
    levels = [(lv.stride, lv.shape, lv.first, lv.last, lv.layers, lv.macs) for lv in description.levels]
    assert levels == [(1, (8, 8, 6), "conv", "sep", 2, 6912 + 3840), (2, (4, 4, 6), "dw", "dw", 1, 864),
                      (1, (8, 8, 2), "up", "dense", 3, 768 + 640)]  # Flatten and Dense: no stride
    text = str(description)
    assert text.startswith("tiny: 933 parameters (933 trainable), 0.0 M multiply-adds at 8×8, "
                           "output (None, 5)")
    assert len(text.splitlines()) == 1 + 1 + 3  # headline, column names, a line per level


def test_describe_rebuilds_an_any_size_model_at_the_size_asked_for():
    from personseg.models import describe

    model = build_model("unet", encoder="none", depth=2, base_filters=4)
    small, large = describe(model, 32), describe(model, 64)
    assert large.macs == 4 * small.macs > 0  # every counted layer scales with the pixels
    assert large.output_shape == (None, 64, 64, 1) and large.params == model.count_params()
    assert [level.stride for level in large.levels] == [1, 2, 4, 2, 1]  # down the encoder, back up
    assert describe(model, 32, name="my unet").headline().startswith("my unet: ")
    with pytest.raises(ValueError, match="give the size"):
        describe(model)


def test_describe_matches_the_published_mobilenetv2_count():
    """MobileNetV2 1.0 at 224×224: 300M multiply-adds and 3.5M parameters (Sandler et al. 2018)."""
    import keras

    from personseg.models import describe

    description = describe(keras.applications.MobileNetV2(input_shape=(224, 224, 3), weights=None))
    assert 299e6 < description.macs < 302e6
    assert description.params == 3_538_984


def test_save_h5_drops_only_the_legacy_notice(tmp_path, caplog):
    import logging

    import keras

    from personseg.models.loading import save_h5

    model = build_model("unet", (32, 32, 3), encoder="none", depth=2, base_filters=4)
    with caplog.at_level(logging.WARNING, logger="absl"):  # personseg.quiet() may have raised it
        save_h5(model, tmp_path / "m.h5")
        model.save(tmp_path / "plain.h5")  # outside save_h5 Keras still says it
    assert caplog.text.count("considered legacy") == 1
    assert keras.models.load_model(tmp_path / "m.h5", compile=False).input_shape == (None, 32, 32, 3)
    assert not logging.getLogger("absl").filters  # the filter is gone again


def test_slim_bottleneck_reads_block_16_and_costs_less():
    """encoder_last_conv=False: the decoder reads block 16's 320·alpha channels, MobileNetV2's last
    1×1 convolution (Conv_1, 1280 channels) is not in the network, and it costs fewer MACs."""
    from personseg.models import describe

    options = {"encoder": "mobilenetv2", "encoder_alpha": 0.35, "encoder_weights": None,
               "decoder_filters": (64, 32, 16, 16, 16), "output_stride": 4}
    full = build_model("unet", (64, 64, 3), **options)
    slim = build_model("unet", (64, 64, 3), encoder_last_conv=False, **options)
    names = {layer.name for layer in slim.layers}
    assert "Conv_1" in {layer.name for layer in full.layers} and "Conv_1" not in names
    assert slim.get_layer("dec4_up").input.shape[-1] == 112  # make_divisible(320 × 0.35, 8)
    assert np.asarray(slim(np.zeros((1, 64, 64, 3), "float32"))).shape == (1, 64, 64, 1)
    assert describe(slim, 64).macs < describe(full, 64).macs * 0.85
