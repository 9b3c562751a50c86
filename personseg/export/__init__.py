"""Export: a trained Keras model → ONNX / TFLite / SavedModel files (`converters`), each checked
against the Keras model on real photos (`parity`) before it gets its name (`exporter`).

The formats and quantisations are named here, without importing TensorFlow, so the command
line offers them as they are."""

FORMATS = ("onnx", "tflite", "savedmodel")
QUANTIZATIONS = ("none", "fp16", "int8")
