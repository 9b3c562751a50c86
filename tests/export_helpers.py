"""Small models for the export/backend/bench tests: random ones, and one trained for seconds
to give real, non-trivial masks on the bundled photos (so quantisation agreement means something)."""

from __future__ import annotations

from pathlib import Path

import cv2
import numpy as np


def save_random_model(path: Path, size: int = 64, arch: str = "shallow") -> Path:
    """Randomly initialised model (fixed size×size input), saved as .h5 like a run's model.h5."""
    import keras

    from personseg.models import build_model

    keras.utils.set_random_seed(1)
    if arch == "unet":
        model = build_model("unet", (size, size, 3), encoder="mobilenetv2", encoder_alpha=0.35,
                            encoder_weights=None, decoder_filters=(32, 24, 16, 16, 8))
    else:
        model = build_model("shallow", (size, size, 3), filters=(8, 16, 32))
    model.save(path)
    return path


def _photo_crops(n: int, size: int, seed: int) -> tuple[np.ndarray, np.ndarray]:
    """Random crops of the bundled photos; target = smoothed brightness > 110 (blobby regions)."""
    from personseg.inference.sample_photos import sample_images

    rng = np.random.default_rng(seed)
    photos = list(sample_images().values())
    xs, ys = [], []
    for i in range(n):
        photo = photos[i % len(photos)]
        side = int(rng.integers(size, min(photo.shape[:2])))
        top = int(rng.integers(0, photo.shape[0] - side + 1))
        left = int(rng.integers(0, photo.shape[1] - side + 1))
        crop = photo[top : top + side, left : left + side]
        crop = cv2.resize(crop, (size, size), interpolation=cv2.INTER_AREA)
        if rng.random() < 0.5:
            crop = np.ascontiguousarray(crop[:, ::-1])
        lum = cv2.GaussianBlur(cv2.cvtColor(crop, cv2.COLOR_RGB2GRAY).astype(np.float32), (0, 0), 3)
        xs.append(crop)
        ys.append(lum > 110)
    return np.stack(xs).astype(np.float32), np.stack(ys).astype(np.float32)[..., None]


def train_blob_model(path: Path, size: int = 64, epochs: int = 8) -> Path:
    """A shallow model trained ~10 s to segment bright blobs of the photos: confident masks with
    real edges, the case where quantisation can flip pixels."""
    import keras

    from personseg.models import build_model

    keras.utils.set_random_seed(0)
    x, y = _photo_crops(256, size, seed=0)
    model = build_model("shallow", (size, size, 3), filters=(8, 16, 32, 64))
    model.compile(keras.optimizers.Adam(3e-3), "binary_crossentropy")
    model.fit(x, y, batch_size=16, epochs=epochs, verbose=0)
    model.save(path)
    return path


def write_calibration_photos(folder: Path) -> Path:
    """A few crops of the bundled photos as JPEGs (a stand-in for a prepared image folder)."""
    from personseg.inference.sample_photos import sample_images

    folder.mkdir(parents=True, exist_ok=True)
    for name, photo in sample_images().items():
        for i, (top, left) in enumerate([(0, 0), (100, 50), (50, 100), (112, 0)]):
            crop = photo[top : top + 400, left : left + 400]
            cv2.imwrite(str(folder / f"{name}_{i}.jpg"), cv2.cvtColor(crop, cv2.COLOR_RGB2BGR))
    return folder
