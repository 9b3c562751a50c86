"""personseg: find people in photos and video with Keras/TensorFlow."""

__version__ = "0.1.0"


def __getattr__(name: str):
    # Lazy, so `import personseg` (and `personseg --help`) never pulls in OpenCV or TensorFlow.
    if name == "Segmenter":
        from personseg.segmenter import Segmenter

        return Segmenter
    raise AttributeError(f"module 'personseg' has no attribute {name!r}")
