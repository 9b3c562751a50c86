"""Training past one machine: `--distribute multiworker`, TensorFlow's MultiWorkerMirroredStrategy.

Every worker runs the same `personseg train` command with its own `TF_CONFIG` (the cluster's
`host:port` list and this worker's index). Gradients are all-reduced every step, so all workers
hold the same weights; only the chief (`chief` task, else worker 0) writes the run folder. The
others write theirs to a temporary folder that is deleted at the end, as TensorFlow's
multi-worker guide recommends (their callbacks still run: saving may need every worker).
Each worker's input pipeline decodes only its share of every training batch (`sharded_dataset`);
validation batches are split between the workers by tf.data's automatic sharding.

Keras 3 (3.15) does not support this strategy out of the box (keras-team/keras#20585): `fit`
reduces the first batch across replicas only to learn its shapes, and reduces scalar step
results along an axis they do not have. `multiworker_strategy` patches both, for this process.
"""

from __future__ import annotations

import dataclasses
import json
import os
import shutil
import tempfile
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

from personseg.errors import OptionError, UserError
from personseg.training.config import TrainConfig


@dataclass(frozen=True)
class WorkerRole:
    """This process's place in the cluster that `TF_CONFIG` describes."""

    task_type: str
    index: int
    workers: int  # chief + workers
    has_chief: bool

    @property
    def chief(self) -> bool:
        return self.task_type == "chief" or (not self.has_chief and self.task_type == "worker"
                                             and self.index == 0)

    @property
    def name(self) -> str:
        return f"{self.task_type}{self.index}"


def worker_role(environ: dict | None = None) -> WorkerRole:
    """Parse `TF_CONFIG`; UserError with what is missing when it cannot describe a cluster."""
    text = (os.environ if environ is None else environ).get("TF_CONFIG")
    if not text:
        raise UserError("TF_CONFIG: not set; --distribute multiworker needs it on every worker "
                        "(see docs/training.md)")
    try:
        tf_config = json.loads(text)
        cluster, task = tf_config["cluster"], tf_config["task"]
        task_type, index = str(task["type"]), int(task["index"])
        members = {kind: list(cluster.get(kind, [])) for kind in ("chief", "worker")}
    except (ValueError, KeyError, TypeError, AttributeError) as exc:
        raise UserError(f"TF_CONFIG: not a cluster description ({exc!r}); expected "
                        '{"cluster": {"worker": ["host:port", ...]}, "task": {"type": "worker", '
                        '"index": N}}') from None
    if task_type not in members or not 0 <= index < len(members[task_type]):
        raise UserError(f"TF_CONFIG: task {task_type} {index} is not in the cluster {cluster}")
    return WorkerRole(task_type, index, len(members["chief"]) + len(members["worker"]),
                      bool(members["chief"]))


@contextmanager
def worker_view(config: TrainConfig, resume: bool) -> Iterator[TrainConfig]:
    """The config this worker trains with: the chief's unchanged, the others' writing to a
    temporary folder (seeded with the run's config and backup when resuming)."""
    role = worker_role()
    if role.chief:
        yield config
        return
    run = Path(config.out)
    with tempfile.TemporaryDirectory(prefix=f"personseg-{role.name}-") as tmp:
        local = Path(tmp) / "run"
        if resume:
            if not (run / "config.json").is_file():
                raise UserError(f"{run}: not visible from {role.name}; resuming a multi-worker run "
                                "needs the run folder on a filesystem every worker shares")
            local.mkdir()
            for name in ("config.json", "log.csv"):
                if (run / name).is_file():
                    shutil.copy2(run / name, local / name)
            if (run / "backup").is_dir():
                shutil.copytree(run / "backup", local / "backup")
        yield dataclasses.replace(config, out=str(local))


def sharded_dataset(strategy, batch_size: int, make: Callable[..., object]):
    """The training batches as one input pipeline per worker, each reading only its share.

    `make(shard=(i, n), shard_batch_size=b)` builds pipeline i of n with per-replica batches of b
    (`data.pipeline.train_dataset`); every global batch of `batch_size` is read exactly once."""
    replicas = strategy.num_replicas_in_sync
    if batch_size % replicas:
        raise OptionError("batch_size", batch_size, f"must be a multiple of the {replicas} replicas "
                          "(it is the global batch, split evenly between them)")

    def pipeline(context):
        return make(shard=(context.input_pipeline_id, context.num_input_pipelines),
                    shard_batch_size=context.get_per_replica_batch_size(batch_size))

    return strategy.distribute_datasets_from_function(pipeline)


def multiworker_strategy():
    """MultiWorkerMirroredStrategy over the `TF_CONFIG` cluster (waits until every worker is up)."""
    import tensorflow as tf

    worker_role()  # a clear error before TensorFlow waits for a cluster it cannot find
    _patch_keras_for_multiworker()
    return tf.distribute.MultiWorkerMirroredStrategy()


def _patch_keras_for_multiworker() -> None:
    """Work around keras-team/keras#20585 (see the module docstring); idempotent."""
    import tensorflow as tf
    from keras.src import tree
    from keras.src.backend.tensorflow import trainer as tf_trainer

    if getattr(tf_trainer, "_personseg_multiworker", False):
        return
    original_reduce = tf_trainer.reduce_per_replica

    def first_local(value):
        if isinstance(value, tf.distribute.DistributedValues):
            return tf.distribute.get_strategy().experimental_local_results(value)[0]
        return value

    def maybe_symbolic_build(self, iterator=None, data_batch=None):
        # Only the batch's shapes and dtypes are used, and every replica's batch has them.
        if self._distribute_strategy is None:
            return
        with self.distribute_strategy.scope():
            if iterator is not None:
                for _, _, batches in iterator:
                    data_batch = tree.map_structure(first_local, next(batches))
                    break
            self._symbolic_build(data_batch=data_batch)

    def reduce_per_replica(values, strategy, reduction):
        if reduction in ("auto", "mean") and tf_trainer._collective_all_reduce_multi_worker(strategy):
            def mean(value):
                if not isinstance(value, tf.distribute.DistributedValues):
                    return value
                rank = strategy.experimental_local_results(value)[0].shape.rank
                return strategy.reduce("MEAN", value, axis=0 if rank else None)

            return tree.map_structure(mean, values)
        return original_reduce(values, strategy, reduction)

    tf_trainer.TensorFlowTrainer._maybe_symbolic_build = maybe_symbolic_build
    tf_trainer.reduce_per_replica = reduce_per_replica
    tf_trainer._personseg_multiworker = True
