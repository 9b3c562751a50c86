"""Optimizer and learning-rate schedule for fine-tuning an encoder-decoder.

A pretrained encoder wants a smaller step than a fresh decoder; Keras 3 optimizers have no
per-layer learning rate, so `AdamWLayerLR` scales the rate for variables whose layer name
starts with one of `slow_prefixes`. Warm-up + cosine decay keeps validation IoU from swinging.
"""

from __future__ import annotations

from collections.abc import Sequence

import keras


@keras.saving.register_keras_serializable(package="personseg")
class AdamWLayerLR(keras.optimizers.AdamW):
    """AdamW whose learning rate is multiplied by `slow_multiplier` for the `slow_prefixes` layers."""

    def __init__(self, *args, slow_prefixes: Sequence[str] = (), slow_multiplier: float = 1.0, **kwargs):
        super().__init__(*args, **kwargs)
        self.slow_prefixes = tuple(slow_prefixes)
        self.slow_multiplier = float(slow_multiplier)

    def build(self, variables):
        # Backends hand update_step their own variable objects, so remember keys, not paths.
        prefixes = self.slow_prefixes
        self._slow_keys = {self._var_key(v) for v in variables if prefixes and v.path.startswith(prefixes)}
        super().build(variables)

    def update_step(self, gradient, variable, learning_rate):
        if self.slow_multiplier != 1.0 and self._var_key(variable) in self._slow_keys:
            learning_rate = keras.ops.cast(learning_rate, variable.dtype) * self.slow_multiplier
        return super().update_step(gradient, variable, learning_rate)

    def get_config(self):
        return {
            **super().get_config(),
            "slow_prefixes": list(self.slow_prefixes),
            "slow_multiplier": self.slow_multiplier,
        }


def warmup_cosine(
    peak_lr: float, total_steps: int, warmup_steps: int, final_fraction: float = 0.01
) -> keras.optimizers.schedules.LearningRateSchedule:
    """Linear warm-up from ~0 to `peak_lr`, then cosine decay to `final_fraction * peak_lr`."""
    warmup_steps = max(0, min(warmup_steps, total_steps - 1))
    return keras.optimizers.schedules.CosineDecay(
        initial_learning_rate=peak_lr * final_fraction if warmup_steps else peak_lr,
        decay_steps=max(1, total_steps - warmup_steps),
        alpha=final_fraction,
        warmup_target=peak_lr if warmup_steps else None,
        warmup_steps=warmup_steps,
    )
