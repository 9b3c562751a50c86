"""The notebook's recipes and sample: which recipe a machine gets (GPU or not, tested on this
CPU), what each trains, and when the COCO sample may be downloaded."""

from __future__ import annotations

import sys
import types

import pytest

from personseg.data.coco_sample import may_download, prepare_sample, sample_ready
from personseg.errors import OptionError
from personseg.training.recipes import RECIPES, choose_recipe, encoder_weights_ready, gpu_count, recipe_config
from tests.synthetic_coco import make_coco


def test_auto_picks_the_gpu_recipe_only_when_there_is_a_gpu():
    assert choose_recipe("auto").name == ("gpu" if gpu_count() else "cpu")  # this machine
    assert choose_recipe("auto", gpus=0).name == "cpu"
    assert choose_recipe("auto", gpus=1).name == "gpu"
    assert choose_recipe("gpu", gpus=0).name == "gpu"  # asked for by name
    with pytest.raises(OptionError, match="recipe='tpu': choose auto, cpu, gpu"):
        choose_recipe("tpu")


def test_the_gpu_recipe_is_the_real_one_and_spreads_over_several_gpus():
    gpu = recipe_config(RECIPES["gpu"], ["d:train"], ["d:val"], "runs/x", gpus=1)
    cpu = recipe_config(RECIPES["cpu"], ["d:train"], ["d:val"], "runs/x")
    assert gpu.mixed_precision == "float16" and cpu.mixed_precision == "none"
    assert gpu.batch_size >= 4 * cpu.batch_size and gpu.epochs >= 5 * cpu.epochs
    assert gpu.steps_per_epoch is None and cpu.steps_per_epoch is not None  # full epochs on a GPU
    assert gpu.encoder_alpha == 1.0 and gpu.size == 256 and gpu.distribute == "none"
    assert RECIPES["gpu"].download_images > 10 * RECIPES["cpu"].download_images
    assert recipe_config(RECIPES["gpu"], ["d"], ["v"], "o", gpus=2).distribute == "mirrored"
    # everything a recipe does not name is TrainConfig's default
    assert gpu.weight_decay == cpu.weight_decay == 1e-4 and gpu.output_stride == cpu.output_stride == 4


def test_overrides_change_any_field_and_unknown_names_are_refused():
    config = recipe_config(RECIPES["cpu"], ["d"], ["v"], "o", epochs=1, size=64)
    assert (config.epochs, config.size) == (1, 64)
    with pytest.raises(OptionError, match="overrides='epoch': not a TrainConfig field"):
        recipe_config(RECIPES["cpu"], ["d"], ["v"], "o", epoch=1)
    with pytest.raises(OptionError, match="size"):
        recipe_config(RECIPES["cpu"], ["d"], ["v"], "o", size=-3)


def test_auto_downloads_only_in_colab(monkeypatch):
    assert not may_download("auto") and may_download("yes") and not may_download("no")
    monkeypatch.setitem(sys.modules, "google.colab", types.ModuleType("google.colab"))
    assert may_download("auto") and not may_download("no")
    with pytest.raises(OptionError, match="download='maybe': choose auto, yes, no"):
        may_download("maybe")


def test_prepare_sample_from_files_or_explains_when_there_are_none(tmp_path, capsys):
    out = tmp_path / "sample"
    absent = {"train": (tmp_path / "a.json", tmp_path), "val": (tmp_path / "b.json", tmp_path)}
    assert prepare_sample(out, absent, download="no") is False
    assert f"({tmp_path / 'a.json'} not found)" in capsys.readouterr().out
    assert not out.exists() and not sample_ready(out)
    ann, images = make_coco(tmp_path / "coco")
    assert prepare_sample(out, {"train": (ann, images), "val": (ann, images)}, download="no", workers=1)
    assert sample_ready(out)


IMAGENET_035 = "mobilenet_v2_weights_tf_dim_ordering_tf_kernels_0.35_224_no_top.h5"
OFFLINE = "http://127.0.0.1:9"  # a proxy that refuses every connection: no download can succeed


def test_beside_a_checkout_the_shared_imagenet_file_is_used(tmp_path, monkeypatch):
    checkout = tmp_path / "personseg"
    (tmp_path / "shared" / "weights" / "keras-applications").mkdir(parents=True)
    checkout.mkdir()
    monkeypatch.chdir(checkout)
    assert recipe_config(RECIPES["cpu"], ["d"], ["v"], "o").encoder_weights == "imagenet"  # not there
    (tmp_path / "shared" / "weights" / "keras-applications" / IMAGENET_035).write_bytes(b"h5")
    config = recipe_config(RECIPES["cpu"], ["d"], ["v"], "o")
    assert config.encoder_weights == f"../shared/weights/keras-applications/{IMAGENET_035}"
    assert recipe_config(RECIPES["cpu"], ["d"], ["v"], "o", encoder_alpha=0.5).encoder_weights == "imagenet"
    assert recipe_config(RECIPES["cpu"], ["d"], ["v"], "o", encoder_weights="none").encoder_weights == "none"


def test_offline_without_the_imagenet_file_one_paragraph_says_what_to_do(tmp_path, monkeypatch, capsys):
    """Was: a 100-line traceback from Keras' download in the notebook's training cell."""
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("KERAS_HOME", str(tmp_path / "keras"))
    for name in ("HTTPS_PROXY", "https_proxy", "HTTP_PROXY", "http_proxy"):
        monkeypatch.setenv(name, OFFLINE)
    monkeypatch.delenv("NO_PROXY", raising=False)
    monkeypatch.delenv("no_proxy", raising=False)
    config = recipe_config(RECIPES["cpu"], ["d"], ["v"], "o")
    assert encoder_weights_ready(config) is False
    (paragraph,) = capsys.readouterr().out.strip().splitlines()
    assert paragraph.startswith(f"Training needs Keras' ImageNet MobileNetV2 file {IMAGENET_035}")
    assert "Connection refused" in paragraph and f"{tmp_path / 'keras' / 'models'}/" in paragraph
    assert 'OVERRIDES = {"encoder_weights": "none"}' in paragraph
    assert encoder_weights_ready(recipe_config(RECIPES["cpu"], ["d"], ["v"], "o", encoder_weights="none"))
    cached = tmp_path / "keras" / "models" / IMAGENET_035  # what an offline user copies in
    cached.parent.mkdir(parents=True)
    cached.write_bytes(b"h5")
    assert encoder_weights_ready(config) is True and capsys.readouterr().out == ""
