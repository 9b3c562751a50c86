"""personseg: find people in photos and video with Keras/TensorFlow."""

__version__ = "0.1.0"
