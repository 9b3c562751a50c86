"""Shared test fixtures: where ../shared lives, and skips with a reason when it is absent."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]
SHARED = Path(os.environ.get("PERSONSEG_SHARED", REPO.parent / "shared"))
COCO_MINI = SHARED / "data" / "coco-person-mini"
PERSON_MASKS = SHARED / "data" / "person-masks"
ENCODER_WEIGHTS = SHARED / "weights" / "keras-applications"

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")


def require(path: Path) -> Path:
    """Skip the calling test with a clear reason unless `path` exists."""
    if not path.exists():
        pytest.skip(f"{path} is absent (shared data/weights are not part of the repo; CI has them)")
    return path


@pytest.fixture
def coco_mini() -> Path:
    return require(COCO_MINI)


@pytest.fixture
def person_masks() -> Path:
    return require(PERSON_MASKS)


@pytest.fixture
def encoder_weights() -> Path:
    return require(ENCODER_WEIGHTS)
