"""Export: a trained Keras model → ONNX / TFLite / SavedModel files (`converters`), each checked
against the Keras model on real photos (`parity`) before it gets its name (`exporter`)."""
