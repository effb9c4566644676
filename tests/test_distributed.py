"""Tests of medlab.distributed (the launcher), medlab.ddp_train and the chapter-10 checks."""

from __future__ import annotations

import os
import subprocess
import sys
import time

import pytest

torch = pytest.importorskip("torch")

from medlab import ddp_train  # noqa: E402
from medlab.distributed import WorkerError, free_port, launch  # noqa: E402
from medlab.teach import check  # noqa: E402


@pytest.fixture(scope="module")
def data():
    X, y, _, _ = ddp_train.wdbc_tensors("float64")
    return X, y


def _max_diff(a, b):
    return max(float((p.detach() - q.detach()).abs().max()) for p, q in zip(a, b))


def test_ddp_two_processes_equal_one_process(data):
    cfg = ddp_train.Config(steps=12, dtype="float64")
    torch.set_num_threads(1)
    single = ddp_train.train(cfg, data=data)
    ranks = launch(ddp_train.worker, 2, (cfg, data), timeout=120)
    assert len(ranks) == 2
    assert _max_diff(single["params"], ranks[0]["params"]) < 1e-12
    assert _max_diff(ranks[0]["params"], ranks[1]["params"]) == 0
    assert torch.allclose(single["losses"], ranks[1]["losses"], rtol=0, atol=1e-12)


def test_fsdp_two_processes_equal_one_process_and_store_half(data):
    cfg = ddp_train.Config(steps=6, dtype="float64", hidden=64, strategy="fsdp")
    torch.set_num_threads(1)
    single = ddp_train.train(cfg, data=data)  # one process: nothing to shard
    ranks = launch(ddp_train.worker, 2, (cfg, data), timeout=120)
    total = sum(p.numel() for p in single["params"])
    assert single["stored_parameters"] == total
    assert _max_diff(single["params"], ranks[0]["params"]) < 1e-12
    assert _max_diff(ranks[0]["params"], ranks[1]["params"]) == 0
    assert torch.allclose(single["losses"], ranks[0]["losses"], rtol=0, atol=1e-12)
    assert sum(r["stored_parameters"] for r in ranks) == total
    assert all(r["stored_parameters"] < 0.6 * total for r in ranks)


def test_train_logs_every_n_steps_and_checks_its_settings(data, capsys):
    out = ddp_train.train(ddp_train.Config(steps=6, log_every=3), data=data)
    printed = capsys.readouterr().out
    assert "step 3: loss" in printed and "step 6: loss" in printed and "step 1:" not in printed
    assert out["losses"].shape == (6,)
    with pytest.raises(ValueError, match="strategy"):
        ddp_train.train(ddp_train.Config(strategy="zero3"), data=data)
    with pytest.raises(ValueError, match="optimizer must be 'sgd' or 'adam'"):
        ddp_train.train(ddp_train.Config(optimizer="lamb"), data=data)


def test_failing_worker_raises_its_error_quickly():
    t0 = time.perf_counter()
    with pytest.raises(WorkerError, match="29 columns, expected 30") as info:
        launch(ddp_train.failing_worker, 2, (1,), timeout=60)
    assert "rank 1" in str(info.value)
    assert time.perf_counter() - t0 < 45


def test_launch_rejects_notebook_functions_and_bad_arguments():
    def local(rank, world_size):
        return rank

    with pytest.raises(ValueError, match="module"):
        launch(local, 2)
    with pytest.raises(ValueError, match="world_size"):
        launch(ddp_train.worker, 0)
    with pytest.raises(ValueError, match="backend"):
        launch(ddp_train.worker, 1, backend="mpi")
    with pytest.raises(ValueError, match="timeouts"):
        launch(ddp_train.worker, 1, timeout=0)


def test_train_refuses_uneven_batches_and_missing_group(data):
    with pytest.raises(ValueError, match="divisible"):
        ddp_train.train(ddp_train.Config(global_batch=63), rank=0, world_size=2, data=data)
    with pytest.raises(RuntimeError, match="process group"):
        ddp_train.train(ddp_train.Config(), rank=0, world_size=2, data=data)


def test_free_port_is_bindable():
    import socket

    port = free_port()
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", port))


def test_torchrun_runs_the_script(tmp_path, data):
    ckpt = tmp_path / "ckpt.pt"
    command = [sys.executable, "-m", "torch.distributed.run", "--nnodes=1",
               "--nproc_per_node=2", "--rdzv-backend=c10d",
               f"--rdzv-endpoint=127.0.0.1:{free_port()}", "-m", "medlab.ddp_train",
               "--steps", "8", "--dtype", "float64", "--out", str(ckpt)]
    env = dict(os.environ, OMP_NUM_THREADS="1")
    done = subprocess.run(command, capture_output=True, text=True, timeout=120, env=env)
    assert done.returncode == 0, done.stderr[-3000:]
    assert "world_size=2" in done.stdout
    state = torch.load(ckpt, weights_only=True)
    assert state["step"] == 8
    single = ddp_train.train(ddp_train.Config(steps=8, dtype="float64"), data=data)
    model = ddp_train.make_model(dtype="float64")
    model.load_state_dict(state["model"])
    assert _max_diff(single["params"], list(model.parameters())) < 1e-12


def test_two_torchrun_agents_rendezvous_as_two_nodes(tmp_path, data):
    """Two `torchrun --nnodes=2` agents on this machine, as two nodes would run: they meet at
    a c10d rendezvous on 127.0.0.1, train together, and match one process to rounding."""
    endpoint = f"127.0.0.1:{free_port()}"
    env = dict(os.environ, OMP_NUM_THREADS="1", GLOO_SOCKET_IFNAME="lo")
    agents = []
    for node in range(2):
        ckpt = tmp_path / f"node{node}.pt"
        command = [sys.executable, "-m", "torch.distributed.run", "--nnodes=2",
                   "--nproc_per_node=1", "--rdzv-backend=c10d", f"--rdzv-endpoint={endpoint}",
                   "--rdzv-id=medlab-test", "-m", "medlab.ddp_train", "--steps", "8",
                   "--dtype", "float64", "--out", str(ckpt)]
        agents.append(subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                                       text=True, env=env))
    try:
        outs = [agent.communicate(timeout=300) for agent in agents]
    finally:
        for agent in agents:
            agent.kill()
    for agent, (_, err) in zip(agents, outs):
        assert agent.returncode == 0, err[-3000:]
    assert any("world_size=2" in out for out, _ in outs)
    saved = [p for p in tmp_path.glob("node*.pt")]
    assert saved, "neither node wrote the checkpoint"
    state = torch.load(saved[0], weights_only=True)
    single = ddp_train.train(ddp_train.Config(steps=8, dtype="float64"), data=data)
    model = ddp_train.make_model(dtype="float64")
    model.load_state_dict(state["model"])
    assert state["step"] == 8
    assert _max_diff(single["params"], list(model.parameters())) < 1e-12


@pytest.mark.parametrize("name, right, wrong", [
    ("ch10-bubble", 3 / 11, 3 / 8),
    ("ch10-global-batch", (128, 8), (128, 7)),
    ("ch10-int8-ratio", 3.965, 4.0),
])
def test_chapter_checks(name, right, wrong):
    assert check(name, right) is True
    assert check(name, wrong) is False


def test_global_batch_answer_is_what_torch_does():
    """The exercise's answer, from torch itself: the sampler's drop_last only evens out the
    ranks; the DataLoader keeps its short last batch unless its own drop_last is set."""
    from torch.utils.data import DataLoader, TensorDataset
    from torch.utils.data.distributed import DistributedSampler

    data = TensorDataset(torch.arange(1000))
    steps = {}
    for loader_drop in (False, True):
        lengths = {len(DataLoader(data, batch_size=16, drop_last=loader_drop,
                                  sampler=DistributedSampler(data, num_replicas=8, rank=rank,
                                                             drop_last=True)))
                   for rank in range(8)}
        assert len(lengths) == 1
        steps[loader_drop] = lengths.pop()
    assert steps == {False: 8, True: 7}
    assert check("ch10-global-batch", (8 * 16, steps[False])) is True


@pytest.mark.parametrize("gpus, world, expected", [
    (0, 2, "gloo"), (1, 1, "nccl"), (1, 2, "gloo"), (2, 2, "nccl"), (4, 2, "nccl")])
def test_backend_needs_one_gpu_per_process(monkeypatch, gpus, world, expected):
    """One GPU (Colab) and two processes: NCCL would refuse two ranks on one GPU; use gloo."""
    from medlab import distributed

    monkeypatch.setattr(torch.cuda, "is_available", lambda: gpus > 0)
    monkeypatch.setattr(torch.cuda, "device_count", lambda: gpus)
    assert distributed.default_backend(world) == expected
    with pytest.raises(ValueError, match="world_size"):
        distributed.default_backend(0)


def _fake_gpus(monkeypatch, gpus):
    monkeypatch.setattr(torch.cuda, "is_available", lambda: gpus > 0)
    monkeypatch.setattr(torch.cuda, "device_count", lambda: gpus)


@pytest.mark.parametrize("gpus", [0, 1, 2])
def test_one_agent_two_processes_get_a_gpu_each_or_gloo(monkeypatch, gpus):
    """torchrun --nproc_per_node=2 on a machine with 0, 1 or 2 GPUs: each rank's choice."""
    _fake_gpus(monkeypatch, gpus)
    chosen = []
    for rank in range(2):
        env = {"RANK": str(rank), "LOCAL_RANK": str(rank), "WORLD_SIZE": "2",
               "LOCAL_WORLD_SIZE": "2"}
        chosen.append(ddp_train.placement_from_env(env))
    if gpus >= 2:
        assert chosen == [("nccl", "cuda:0"), ("nccl", "cuda:1")]
    else:  # one GPU cannot hold two NCCL ranks: both ranks use gloo on the CPU
        assert chosen == [("gloo", "cpu"), ("gloo", "cpu")]


@pytest.mark.parametrize("gpus", [0, 1, 2, 3])
def test_two_agents_on_one_machine_never_share_a_gpu(monkeypatch, gpus):
    """Two torchrun agents (--nnodes=2 --nproc_per_node=1) on one machine, as chapter 10 runs
    them: each has LOCAL_WORLD_SIZE=1, so each must see GPUs of its own (agent_gpus) or none."""
    physical = []
    for node in range(2):
        visible = ddp_train.agent_gpus(node, 2, gpus)
        ids = [int(g) for g in visible.split(",")] if visible else []
        _fake_gpus(monkeypatch, len(ids))  # what torch reports under CUDA_VISIBLE_DEVICES
        env = {"RANK": str(node), "LOCAL_RANK": "0", "WORLD_SIZE": "2", "LOCAL_WORLD_SIZE": "1"}
        backend, device = ddp_train.placement_from_env(env)
        physical.append((backend, ids[int(device.split(":")[1])] if backend == "nccl" else None))
    backends = {b for b, _ in physical}
    assert len(backends) == 1  # every rank of the job on the same backend
    if gpus >= 2:
        assert backends == {"nccl"} and physical[0][1] != physical[1][1]
    else:
        assert backends == {"gloo"}
    with pytest.raises(ValueError, match="node"):
        ddp_train.agent_gpus(2, 2, gpus)


def test_placement_checks_its_arguments():
    from medlab.distributed import placement

    assert placement(1, 0, gpu_count=1) == ("nccl", "cuda:0")
    assert placement(4, 3, gpu_count=3) == ("gloo", "cpu")
    with pytest.raises(ValueError, match="local_rank"):
        placement(2, 2, gpu_count=2)
    with pytest.raises(ValueError, match="gpu_count"):
        placement(1, 0, gpu_count=-1)
    with pytest.raises(ValueError, match="LOCAL_RANK"):
        ddp_train.placement_from_env({"LOCAL_RANK": "x"})


@pytest.mark.parametrize("major, expected", [(7, torch.float16), (8, torch.bfloat16)])
def test_amp_dtype_does_not_count_emulated_bfloat16(monkeypatch, major, expected):
    """A T4 (compute capability 7.5) only emulates bfloat16: autocast must use float16 (with a
    gradient scaler) there, bfloat16 on Ampere (8.0) and newer, and on the CPU."""
    from types import SimpleNamespace

    monkeypatch.setattr(torch.version, "hip", None)
    monkeypatch.setattr(torch.cuda, "is_available", lambda: True)
    monkeypatch.setattr(torch.cuda, "current_device", lambda: 0)
    monkeypatch.setattr(torch.cuda, "get_device_properties",
                        lambda device: SimpleNamespace(major=major, minor=5))
    monkeypatch.setattr(torch.cuda, "_check_bf16_tensor_supported", lambda device: True)
    assert torch.cuda.is_bf16_supported()  # the default counts emulation: True even on a T4
    assert ddp_train.amp_dtype("cuda") == expected
    assert ddp_train.amp_dtype("cpu") == torch.bfloat16


def test_device_choice_checks_the_request():
    assert ddp_train._device("cpu").type == "cpu"
    with pytest.raises(ValueError, match="device"):
        ddp_train._device("tpu")
    if not torch.cuda.is_available():
        with pytest.raises(ValueError, match="no CUDA"):
            ddp_train._device("cuda")


def test_snapshot_resume_equals_an_uninterrupted_run(tmp_path, data):
    """Stop after a snapshot, start again: the resumed run ends where one run would."""
    whole = ddp_train.train(ddp_train.Config(steps=17, dtype="float64"), data=data)
    snap = str(tmp_path / "snap.pt")
    first = ddp_train.Config(steps=12, dtype="float64", snapshot=snap, snapshot_every=5)
    ddp_train.train(first, data=data)  # last snapshot at step 10, two steps lost
    assert torch.load(snap, weights_only=True)["step"] == 10
    resumed = ddp_train.train(ddp_train.Config(steps=17, dtype="float64", snapshot=snap),
                              data=data)
    assert resumed["resumed_from"] == 10
    assert _max_diff(whole["params"], resumed["params"]) == 0
    assert torch.equal(whole["losses"], resumed["losses"])


def test_torchrun_restarts_a_crashed_worker_and_resumes(tmp_path, data):
    """torchrun --max-restarts=1: rank 1 dies at step 13; the restarted job resumes from the
    snapshot of step 10 and ends with the parameters of an uninterrupted run."""
    command = [sys.executable, "-m", "torch.distributed.run", "--nnodes=1",
               "--nproc_per_node=2", "--max-restarts=1", "--rdzv-backend=c10d",
               f"--rdzv-endpoint=127.0.0.1:{free_port()}", "-m", "medlab.ddp_train",
               "--steps", "16", "--dtype", "float64", "--snapshot", str(tmp_path / "snap.pt"),
               "--snapshot-every", "5", "--crash-at", "13"]
    env = dict(os.environ, OMP_NUM_THREADS="1")
    done = subprocess.run(command, capture_output=True, text=True, timeout=400, env=env)
    assert done.returncode == 0, done.stdout + done.stderr[-6000:]
    assert "resumed_from=10" in done.stdout
    checksum = float(done.stdout.split("param_checksum=")[1].split()[0])
    single = ddp_train.train(ddp_train.Config(steps=16, dtype="float64"), data=data)
    assert abs(checksum - float(torch.cat([p.ravel() for p in single["params"]]).sum())) < 1e-8


def test_adam_snapshot_resume_restores_its_moments(tmp_path, data):
    """Adam's state (both moving averages, its step count) travels in the snapshot: a resumed
    run ends where one run would, and Adam did change the parameters differently from SGD."""
    adam = dict(dtype="float64", optimizer="adam", lr=0.01)
    whole = ddp_train.train(ddp_train.Config(steps=13, **adam), data=data)
    snap = str(tmp_path / "adam.pt")
    ddp_train.train(ddp_train.Config(steps=11, snapshot=snap, snapshot_every=4, **adam),
                    data=data)  # last snapshot at step 8
    state = torch.load(snap, weights_only=True)
    assert state["step"] == 8 and "exp_avg_sq" in state["optimizer"]["state"][0]
    resumed = ddp_train.train(ddp_train.Config(steps=13, snapshot=snap, **adam), data=data)
    assert resumed["resumed_from"] == 8
    assert _max_diff(whole["params"], resumed["params"]) == 0
    sgd = ddp_train.train(ddp_train.Config(steps=13, dtype="float64", lr=0.01), data=data)
    assert _max_diff(whole["params"], sgd["params"]) > 1e-3


def test_gradients_averaged_by_hand_equal_ddp_and_one_process(data):
    """The exercise's all-reduce by hand: bit for bit DDP's gradient on two processes, and the
    one-process gradient on the whole batch to rounding error."""
    import torch.nn.functional as F

    torch.set_num_threads(1)
    cfg = ddp_train.Config(dtype="float64", global_batch=64)
    ranks = launch(ddp_train.allreduce_worker, 2, (cfg, data), backend="gloo", timeout=120)
    X, y = data
    one = ddp_train.make_model(dtype="float64")
    F.cross_entropy(one(X[:64]), y[:64]).backward()
    for r in ranks:
        assert all(torch.equal(h, d) for h, d in zip(r["hand"], r["ddp"]))
        assert _max_diff(r["hand"], [p.grad for p in one.parameters()]) < 1e-12
    # after the average both ranks hold the same gradient
    assert _max_diff(ranks[0]["hand"], ranks[1]["hand"]) == 0
