"""`personseg train --distribute multiworker`: two local CPU workers on 127.0.0.1 train in step
(MultiWorkerMirroredStrategy from TF_CONFIG) and only the chief writes the run folder."""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from personseg.errors import UserError
from personseg.training import TrainConfig
from personseg.training.distribute import worker_role, worker_view
from tests.synthetic import make_root


def tf_config(ports: list[int], index: int, kind: str = "worker", chief: list[int] = ()) -> str:
    cluster = {"worker": [f"127.0.0.1:{p}" for p in ports]}
    if chief:
        cluster["chief"] = [f"127.0.0.1:{p}" for p in chief]
    return json.dumps({"cluster": cluster, "task": {"type": kind, "index": index}})


def test_the_chief_is_the_chief_task_else_worker_0_and_bad_tf_config_is_explained():
    assert worker_role({"TF_CONFIG": tf_config([1, 2], 0)}).chief
    second = worker_role({"TF_CONFIG": tf_config([1, 2], 1)})
    assert not second.chief and second.workers == 2 and second.name == "worker1"
    assert not worker_role({"TF_CONFIG": tf_config([1, 2], 0, chief=[3])}).chief
    assert worker_role({"TF_CONFIG": tf_config([1, 2], 0, "chief", chief=[3])}).workers == 3
    with pytest.raises(UserError, match="TF_CONFIG: not set"):
        worker_role({})
    with pytest.raises(UserError, match="TF_CONFIG: not a cluster description"):
        worker_role({"TF_CONFIG": "{oops"})
    with pytest.raises(UserError, match="task worker 2 is not in the cluster"):
        worker_role({"TF_CONFIG": tf_config([1, 2], 2)})


def test_other_workers_write_to_a_temporary_folder_seeded_from_the_run_when_resuming(tmp_path, monkeypatch):
    run = tmp_path / "run"
    config = TrainConfig(data=["d"], val=["v"], out=str(run))
    monkeypatch.setenv("TF_CONFIG", tf_config([1, 2], 0))
    with worker_view(config, resume=False) as view:
        assert view is config
    monkeypatch.setenv("TF_CONFIG", tf_config([1, 2], 1))
    with pytest.raises(UserError, match="not visible from worker1"):
        with worker_view(config, resume=True):
            pass
    (run / "backup").mkdir(parents=True)
    (run / "backup" / "training_metadata.json").write_text('{"epoch": 1}')
    config.save(run / "config.json")
    with worker_view(config, resume=True) as view:
        local = Path(view.out)
        assert local != run and (local / "config.json").is_file()
        assert (local / "backup" / "training_metadata.json").read_text() == '{"epoch": 1}'
    assert not local.exists()


def test_input_shards_together_read_each_global_batch_once(tmp_path):
    from personseg.data.pipeline import load_roots, train_dataset

    roots = load_roots([str(make_root(tmp_path / "d", n=8))], "train")
    options = dict(size=32, batch_size=4, steps_per_epoch=2, epochs=2, copy_paste=0.5)
    whole = [image.numpy() for image, _ in train_dataset(roots, **options)]
    shards = [[image.numpy() for image, _ in
               train_dataset(roots, shard=(i, 2), shard_batch_size=2, **options)] for i in range(2)]
    assert len(whole) == len(shards[0]) == len(shards[1]) == 4
    for step, batch in enumerate(whole):
        np.testing.assert_array_equal(batch[0::2], shards[0][step])
        np.testing.assert_array_equal(batch[1::2], shards[1][step])


def free_ports(n: int) -> list[int]:
    sockets = [socket.socket() for _ in range(n)]
    for s in sockets:
        s.bind(("127.0.0.1", 0))
    ports = [s.getsockname()[1] for s in sockets]
    for s in sockets:
        s.close()
    return ports


@pytest.mark.slow
def test_two_local_workers_train_in_step_and_only_the_chief_writes_the_run_folder(tmp_path):
    data = make_root(tmp_path / "data", n=8, split="train")
    make_root(tmp_path / "data", n=4, split="val", seed=1)
    run = tmp_path / "run"  # both workers see it, as on a shared filesystem
    argv = ["train", "--data", f"{data}:train", "--val", f"{data}:val", "--out", str(run),
            "--model", "shallow", "--shallow-filters", "4,8", "--size", "32", "--batch-size", "4",
            "--epochs", "2", "--steps-per-epoch", "2", "--warmup-epochs", "0", "--distribute", "multiworker"]
    code = "import sys; from personseg.cli import main; sys.exit(main(sys.argv[1:]))"
    ports = free_ports(2)
    workers = []
    for index in range(2):
        (tmp_path / f"tmp{index}").mkdir()
        env = {**os.environ, "TF_CONFIG": tf_config(ports, index), "CUDA_VISIBLE_DEVICES": "-1",
               "TF_NUM_INTRAOP_THREADS": "1", "TF_NUM_INTEROP_THREADS": "1",
               "TMPDIR": str(tmp_path / f"tmp{index}")}
        workers.append(subprocess.Popen([sys.executable, "-c", code, *argv], env=env, cwd=tmp_path,
                                        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True))
    outputs = []
    try:
        for worker in workers:
            outputs.append(worker.communicate(timeout=300))
    except subprocess.TimeoutExpired:
        for worker in workers:
            worker.kill()
        started = [out for out, _ in (w.communicate() for w in workers) if "Epoch 1/2" in out]
        if len(started) < 2:
            pytest.skip("the two workers' collective ops did not start here within 300 s")
        raise
    codes = [w.returncode for w in workers]
    if codes != [0, 0]:
        if not all("Epoch 1/2" in out for out, _ in outputs):
            pytest.skip(f"collective ops could not start here: {outputs[0][1].strip().splitlines()[-1:]}")
        raise AssertionError(f"exit codes {codes}\n" + "\n".join(err for _, err in outputs))

    # both workers ran the same steps on the same weights: their epochs log the same metrics
    def metrics(out: str) -> list[list[str]]:
        return [[part for part in line.split(" - ") if part.startswith(("loss", "val_", "iou", "lr"))]
                for line in out.splitlines() if "val_iou" in line]

    assert len(metrics(outputs[0][0])) == 2 and metrics(outputs[0][0]) == metrics(outputs[1][0])
    for name in ("config.json", "log.csv", "best.keras", "model.h5", "summary.json"):
        assert (run / name).is_file(), name
    assert json.loads((run / "summary.json").read_text())["epochs_run"] == 2
    assert len((run / "log.csv").read_text().splitlines()) == 3  # one writer: header + 2 epochs
    assert json.loads((run / "config.json").read_text())["distribute"] == "multiworker"
    assert not any((tmp_path / "tmp1").iterdir())  # the other worker's folder is gone
