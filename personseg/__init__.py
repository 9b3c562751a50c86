"""personseg: find people in photos and video with Keras/TensorFlow.

The pipeline is the package tree: `data` (COCO → prepared masks → tf.data) → `models` →
`training` → `evaluation`, and `inference` (Segmenter, predict, render) over `backends`
(Keras, ONNX Runtime, LiteRT, SavedModel, published `peer:NAME` models), `export`, `bench`; `cli` is
the command line.
"""

__version__ = "0.1.0"

# name -> module that defines it; imported on first use, so `import personseg` (and
# `personseg --help`) never pulls in OpenCV or TensorFlow.
_LAZY = {
    "Segmenter": "personseg.inference.segmenter",
    "TrainConfig": "personseg.training.config",
    "train": "personseg.training.loop",
    "build_model": "personseg.models",
    "remove": "personseg.inference.remove",  # rembg-style one-call cut-out
}


def __getattr__(name: str):
    if name in _LAZY:
        import importlib

        try:
            module = importlib.import_module(_LAZY[name])
        except ModuleNotFoundError as exc:  # `from personseg import train` without TensorFlow
            from personseg.extras import explain_missing

            raise explain_missing(exc, f"personseg.{name}") or exc from None
        return getattr(module, name)
    raise AttributeError(f"module 'personseg' has no attribute {name!r}")


__all__ = ["Segmenter", "TrainConfig", "train", "build_model", "remove", "__version__"]
