"""Chapter 10's training script: data-parallel training (DDP) on the Wisconsin data.

The same :func:`train` runs three ways, unchanged:

- in one process (``train(config, rank=0, world_size=1)``), the reference;
- on N processes started from a notebook: ``medlab.distributed.launch(worker, N, (config,))``;
- on N processes per machine started by PyTorch's launcher, on one machine or many::

      torchrun --standalone --nproc_per_node=2 -m medlab.ddp_train --steps 100 --out ckpt.pt
      torchrun --nnodes=2 --nproc_per_node=4 --rdzv-backend=c10d \\
               --rdzv-endpoint=HOST:29500 --rdzv-id=job1 -m medlab.ddp_train --steps 100

torchrun sets ``RANK``, ``WORLD_SIZE``, ``LOCAL_RANK``, ``LOCAL_WORLD_SIZE``, ``MASTER_ADDR``
and ``MASTER_PORT``; :func:`main` reads them, and picks nccl only when every process on the
machine has a GPU of its own, else gloo on the CPU (:func:`placement_from_env`). With
``--snapshot FILE`` a job restarted by ``torchrun --max-restarts=N`` resumes where the last
snapshot left it. ``Config(strategy="fsdp")`` (``--strategy fsdp``) shards the model
over the processes with FSDP instead of copying it (DDP). The module also holds the other functions chapter 10 launches
(Hogwild, a two-stage pipeline, a worker that fails on purpose): a spawned worker imports its
function from a module, never from the notebook; :func:`allreduce_worker` averages
gradients by hand, the solution of an exercise.
"""

from __future__ import annotations

import argparse
import datetime as dt
import os
import time
from dataclasses import asdict, dataclass

import numpy as np

__all__ = ["Config", "agent_gpus", "allreduce_worker", "amp_dtype", "failing_worker", "hogwild_worker", "main",
           "make_model", "pipeline_worker", "placement_from_env", "train", "wdbc_tensors",
           "worker"]


@dataclass
class Config:
    """Settings of one training run (chapter 10)."""

    steps: int = 60              # optimizer steps (the same for any number of processes)
    global_batch: int = 64       # samples per step over all processes together
    lr: float = 0.05
    momentum: float = 0.9
    hidden: int = 32
    dtype: str = "float64"       # float64 makes the DDP = one-process proof exact
    seed: int = 0
    checkpoint: str | None = None  # rank 0 writes the final model here
    snapshot: str | None = None    # resume from here if it exists; rank 0 rewrites it ...
    snapshot_every: int = 0        # ... every so many steps (0: never)
    crash_at: int = 0              # demo: the last rank dies at this step, first attempt only
    device: str = "auto"           # "auto" (the process group's device), "cpu" or "cuda"
    warmup: int = 2              # steps left out of the timing
    eval_every: int = 0          # every so many steps, record the loss on all of (X, y)
    log_every: int = 0           # every so many steps, rank 0 prints the loss (a sync point)
    strategy: str = "ddp"        # "ddp" (a full copy per process) or "fsdp" (sharded)
    optimizer: str = "sgd"       # "sgd" (with momentum) or "adam" (then momentum is unused)


def wdbc_tensors(dtype: str = "float32", seed: int = 0):
    """Standardized Wisconsin data, split 80/20 (stratified): ``(X_train, y_train, X_test,
    y_test)`` as torch tensors. The scaler is fitted on the training part only."""
    import torch
    from sklearn.model_selection import train_test_split
    from sklearn.preprocessing import StandardScaler

    from medlab.data import load_wdbc

    data = load_wdbc()
    X_tr, X_te, y_tr, y_te = train_test_split(data.X, data.y, test_size=0.2, stratify=data.y,
                                              random_state=seed)
    scaler = StandardScaler().fit(X_tr)
    dt_ = getattr(torch, dtype)
    return (torch.tensor(scaler.transform(X_tr), dtype=dt_), torch.tensor(y_tr),
            torch.tensor(scaler.transform(X_te), dtype=dt_), torch.tensor(y_te))


def make_model(n_in: int = 30, hidden: int = 32, n_out: int = 2, *, seed: int = 0,
               dtype: str = "float32"):
    """A small MLP, initialized from ``seed`` so that every process builds the same one."""
    import torch
    from torch import nn

    torch.manual_seed(seed)
    model = nn.Sequential(nn.Linear(n_in, hidden), nn.ReLU(), nn.Linear(hidden, hidden),
                          nn.ReLU(), nn.Linear(hidden, n_out))
    return model.to(getattr(torch, dtype))


def placement_from_env(env=None) -> tuple[str, str]:
    """The backend and device of this process under torchrun, from its environment.

    torchrun sets ``LOCAL_RANK`` and ``LOCAL_WORLD_SIZE`` (the processes its agent started on
    this machine); :func:`medlab.distributed.placement` picks nccl only when every one of them
    has a visible GPU of its own, else gloo on the CPU. One process (no torchrun) gets its GPU
    if there is one, else the CPU.
    """
    from medlab.distributed import placement

    env = os.environ if env is None else env
    try:
        local_rank = int(env.get("LOCAL_RANK", 0))
        local_world = int(env.get("LOCAL_WORLD_SIZE", env.get("WORLD_SIZE", 1)))
    except ValueError:
        raise ValueError("LOCAL_RANK, LOCAL_WORLD_SIZE and WORLD_SIZE must be integers, got "
                         f"{env.get('LOCAL_RANK')!r}, {env.get('LOCAL_WORLD_SIZE')!r}, "
                         f"{env.get('WORLD_SIZE')!r}") from None
    return placement(local_world, local_rank)


def agent_gpus(node: int, nodes_on_machine: int, gpu_count: int) -> str:
    """``CUDA_VISIBLE_DEVICES`` for one of several torchrun agents that share one machine.

    Each agent counts only its own processes (``LOCAL_WORLD_SIZE``), so agents that saw the
    same GPUs would put their ranks on the same ``cuda:0``, which NCCL refuses. Agent ``node``
    gets its own ``gpu_count // nodes_on_machine`` GPUs, or none (then its processes use
    gloo on the CPU, see :func:`medlab.distributed.placement`). Chapter 10 runs two agents on
    one machine as two nodes would run.
    """
    if not 0 <= node < nodes_on_machine:
        raise ValueError(f"agent_gpus: need 0 <= node < nodes_on_machine, got node={node}, "
                         f"nodes_on_machine={nodes_on_machine}")
    if gpu_count < 0:
        raise ValueError(f"agent_gpus: gpu_count must be >= 0, got {gpu_count}")
    share = gpu_count // nodes_on_machine
    return ",".join(str(g) for g in range(node * share, (node + 1) * share))


def amp_dtype(device):
    """The 16-bit type for ``torch.autocast`` on ``device`` (chapter 10): bfloat16 where the
    hardware computes in it, float16 (with a gradient scaler) on older GPUs.

    ``torch.cuda.is_bf16_supported()`` also says True for GPUs that only *emulate* bfloat16
    (a T4, compute capability 7.5), slowly; ``including_emulation=False`` asks for native
    support (compute capability 8.0, Ampere, or newer). CPUs autocast to bfloat16.
    """
    import torch

    device = torch.device(device)
    if device.type == "cuda" and not torch.cuda.is_bf16_supported(including_emulation=False):
        return torch.float16
    return torch.bfloat16


def _device(requested: str = "auto"):
    """The device to train on: under a process group, the group's (``cuda:<local rank>``
    under nccl, else the CPU); in one process, ``requested`` ("auto": the GPU if present)."""
    import torch
    import torch.distributed as dist

    if requested not in ("auto", "cpu", "cuda"):
        raise ValueError(f"device must be 'auto', 'cpu' or 'cuda', got {requested!r}")
    if dist.is_available() and dist.is_initialized():
        group = "cuda" if "nccl" in dist.get_backend() else "cpu"
        if requested not in ("auto", group):
            raise ValueError(f"device={requested!r}, but the process group's backend "
                             f"({dist.get_backend()}) works on {group}")
        return (torch.device("cuda", torch.cuda.current_device()) if group == "cuda"
                else torch.device("cpu"))
    if requested == "auto":
        requested = "cuda" if torch.cuda.is_available() else "cpu"
    if requested == "cuda" and not torch.cuda.is_available():
        raise ValueError("device='cuda', but torch sees no CUDA GPU")
    return torch.device(requested)


def _sync(device) -> None:
    """Wait for the GPU before reading a clock (CUDA runs asynchronously); no-op on the CPU."""
    import torch

    if device.type == "cuda":
        torch.cuda.synchronize(device)


def train(config: Config, rank: int = 0, world_size: int = 1, data=None) -> dict:
    """Train on ``world_size`` processes (this is process ``rank``); see the module docstring.

    Each process sees ``global_batch // world_size`` samples a step, chosen by a
    ``DistributedSampler``; the gradients are averaged over the processes, so every step equals
    one step of a single process on the whole global batch. ``config.strategy`` says how:
    ``"ddp"`` keeps a full copy of the model in every process (``DistributedDataParallel``);
    ``"fsdp"`` shards parameters, gradients and optimizer state over the processes
    (``torch.distributed.fsdp.fully_shard``, one unit per ``Linear``), and recomputes the
    hidden block's activations in backward instead of storing them (activation checkpointing,
    ``torch.utils.checkpoint``). ``data`` is ``(X, y)``; by default the Wisconsin training
    split (:func:`wdbc_tensors`), which each process then loads itself.

    Fault tolerance (``config.snapshot``): rank 0 writes the model, the optimizer state and
    the step to ``snapshot`` every ``snapshot_every`` steps, and a run that finds a snapshot
    resumes from it, data order included, so that a job that torchrun restarts after a
    failure ends with the parameters of an uninterrupted run.

    Nothing inside the timed loop waits for the other processes except the gradient
    all-reduce itself: the losses stay tensors and are averaged over the processes once, after
    the loop (``config.log_every`` adds a printed, synchronising loss every so many steps).
    Returns the final parameters (whole, also under FSDP), the loss of each step (averaged over
    processes), seconds per step, the number of parameter values this process stores, the
    step it resumed from, and where the checkpoint went.
    """
    import torch
    import torch.distributed as dist
    import torch.nn.functional as F
    from torch.nn.parallel import DistributedDataParallel as DDP
    from torch.utils.data import DataLoader, TensorDataset
    from torch.utils.data.distributed import DistributedSampler

    if config.global_batch % world_size:
        raise ValueError(f"train: global_batch={config.global_batch} must be divisible by "
                         f"world_size={world_size}")
    if config.strategy not in ("ddp", "fsdp"):
        raise ValueError(f"train: strategy must be 'ddp' or 'fsdp', got {config.strategy!r}")
    if config.optimizer not in ("sgd", "adam"):
        raise ValueError(f"train: optimizer must be 'sgd' or 'adam', got {config.optimizer!r}")
    distributed = dist.is_available() and dist.is_initialized()
    if world_size > 1 and not distributed:
        raise RuntimeError("train: world_size > 1 needs an initialized process group "
                           "(use medlab.distributed.launch or torchrun)")
    fsdp = distributed and config.strategy == "fsdp"
    if fsdp and (config.checkpoint or config.snapshot):
        raise ValueError("train: checkpoints and snapshots are written for strategy='ddp' "
                         "only (a sharded model needs torch.distributed.checkpoint)")
    device = _device(config.device)
    X, y = data if data is not None else wdbc_tensors(config.dtype, config.seed)[:2]
    X, y = X.to(device, getattr(torch, config.dtype)), y.to(device)
    model = make_model(X.shape[1], config.hidden, seed=config.seed, dtype=config.dtype).to(device)
    opt = _optimizer(model.parameters(), config)
    start, losses = 0, []
    if config.snapshot and os.path.exists(config.snapshot):  # resume after a failure
        snap = torch.load(config.snapshot, map_location=device, weights_only=True)
        model.load_state_dict(snap["model"])
        opt.load_state_dict(snap["optimizer"])
        start, losses = snap["step"], list(snap["losses"].to(device))
    if fsdp:
        from torch.distributed.fsdp import fully_shard

        for layer in model:
            if isinstance(layer, torch.nn.Linear):
                fully_shard(layer)  # each process keeps 1/N of this layer's parameters
        # checkpoint the hidden block (Linear, ReLU, Linear, ReLU): keep only its input and
        # recompute the rest in backward (one Linear alone would save nothing: its input is
        # kept for backward anyway)
        net = fully_shard(torch.nn.Sequential(_Checkpointed(model[:4]), model[4]))
        opt = _optimizer(net.parameters(), config)
    elif distributed:
        # DDP broadcasts rank 0's parameters at the start and all-reduces gradients in backward()
        net = DDP(model, device_ids=[device] if device.type == "cuda" else None)
    else:
        net = model
    sampler = DistributedSampler(TensorDataset(X, y), num_replicas=world_size, rank=rank,
                                 shuffle=True, seed=config.seed, drop_last=True)
    loader = DataLoader(TensorDataset(X, y), batch_size=config.global_batch // world_size,
                        sampler=sampler, drop_last=True)
    if len(loader) == 0:
        raise ValueError(f"train: {len(X)} samples make no batch of {config.global_batch}")
    curve, step = [], start
    epoch, skip = divmod(start, len(loader))  # where the data order was at the snapshot
    _sync(device)
    t_start = time.perf_counter()
    while step < config.steps:
        sampler.set_epoch(epoch)  # a new shuffle each epoch, the same on every rank
        for i, (xb, yb) in enumerate(loader):
            if i < skip:
                continue  # batches this epoch used before the snapshot
            if config.crash_at and step == config.crash_at and rank == world_size - 1 \
                    and os.environ.get("TORCHELASTIC_RESTART_COUNT", "0") == "0":
                print(f"rank {rank}: crashing at step {step} (on purpose)", flush=True)
                os._exit(1)  # as a lost machine would: no clean-up, no message to the others
            if step == start + config.warmup:
                _sync(device)
                t_start = time.perf_counter()
            opt.zero_grad(set_to_none=True)
            loss = F.cross_entropy(net(xb), yb)
            loss.backward()  # under DDP/FSDP: gradients are all-reduced (averaged) here
            opt.step()
            losses.append(loss.detach())  # a tensor: no float(), no waiting for the others
            step += 1
            if config.log_every and step % config.log_every == 0:
                report = loss.detach().clone()
                if distributed:
                    dist.all_reduce(report)  # a second collective: only every log_every steps
                    report /= world_size
                if rank == 0:
                    print(f"step {step}: loss {float(report):.4f}")
            if config.eval_every and step % config.eval_every == 0:
                with torch.no_grad():
                    curve.append((step, float(F.cross_entropy(model(X), y))))
            if config.snapshot and config.snapshot_every and step % config.snapshot_every == 0:
                if rank == 0:  # written whole, then renamed: a crash never leaves half a file
                    _save(config.snapshot, {"model": model.state_dict(),
                                            "optimizer": opt.state_dict(), "step": step,
                                            "losses": torch.stack(losses).cpu()})
            if step == config.steps:
                break
        epoch, skip = epoch + 1, 0
    _sync(device)
    seconds = (time.perf_counter() - t_start) / max(config.steps - start - config.warmup, 1)
    losses = torch.stack(losses).to(torch.float64)
    if distributed:  # one all-reduce for all the steps' losses, after the timing
        dist.all_reduce(losses)
        losses /= world_size
    if fsdp:
        stored = sum(p.to_local().numel() for p in model.parameters())
        params = [p.full_tensor().detach().cpu().clone() for p in model.parameters()]
    else:
        stored = sum(p.numel() for p in model.parameters())
        params = [p.detach().cpu().clone() for p in model.parameters()]
    if config.checkpoint and rank == 0:
        _save(config.checkpoint, {"model": model.state_dict(), "optimizer": opt.state_dict(),
                                  "step": step, "config": asdict(config)})
    if distributed:
        dist.barrier()  # nobody reads the checkpoint before rank 0 has written it
    return {"params": params, "losses": losses.cpu(), "curve": curve,
            "seconds_per_step": seconds, "stored_parameters": stored, "rank": rank,
            "world_size": world_size, "resumed_from": start, "device": str(device)}


def _optimizer(params, config: Config):
    """SGD with ``config.momentum``, or Adam (``config.optimizer``), at ``config.lr``."""
    import torch

    if config.optimizer == "adam":
        return torch.optim.Adam(params, lr=config.lr)
    return torch.optim.SGD(params, lr=config.lr, momentum=config.momentum)


def _save(path, state) -> None:
    """``torch.save`` to a temporary name, then rename: readers never see half a file."""
    import torch

    tmp = f"{path}.tmp"
    torch.save(state, tmp)
    os.replace(tmp, path)


def _Checkpointed(block):
    """``block`` wrapped so that its forward runs under activation checkpointing
    (``torch.utils.checkpoint``, non-reentrant): only its input is kept for backward."""
    import torch
    from torch.utils.checkpoint import checkpoint

    class Checkpointed(torch.nn.Module):
        def __init__(self, inner):
            super().__init__()
            self.inner = inner

        def forward(self, x):
            return checkpoint(self.inner, x, use_reentrant=False)

    return Checkpointed(block)


def worker(rank: int, world_size: int, config, data=None):
    """What :func:`medlab.distributed.launch` runs in each process: :func:`train`.

    ``config`` may be a list of :class:`Config`: the runs then follow one another in the same
    processes (one start-up for several experiments) and a list of results comes back."""
    if isinstance(config, list | tuple):
        return [train(c, rank, world_size, data) for c in config]
    return train(config, rank, world_size, data)


def allreduce_worker(rank: int, world_size: int, config: Config, data) -> dict:
    """Gradient averaging written by hand (chapter 10's exercise), next to DDP's.

    Each process takes its share of the first global batch of ``data = (X, y)``, dealt out
    as a ``DistributedSampler`` without shuffling deals it (rank ``r`` takes rows ``r, r+N,
    ...``), computes the gradient of its mean loss, then sums each gradient over the
    processes with ``dist.all_reduce`` and divides by their number. A DDP copy of the same
    model does the same on the same rows. Returns both gradients (``"hand"``, ``"ddp"``).
    """
    import torch
    import torch.distributed as dist
    import torch.nn.functional as F
    from torch.nn.parallel import DistributedDataParallel as DDP

    device = _device(config.device)
    X, y = data
    X = X[rank:config.global_batch:world_size].to(device, getattr(torch, config.dtype))
    y = y[rank:config.global_batch:world_size].to(device)
    model = make_model(X.shape[1], config.hidden, seed=config.seed, dtype=config.dtype)
    model = model.to(device)
    F.cross_entropy(model(X), y).backward()
    for p in model.parameters():  # the all-reduce that DDP does for us
        dist.all_reduce(p.grad, op=dist.ReduceOp.SUM)
        p.grad /= world_size
    reference = make_model(X.shape[1], config.hidden, seed=config.seed,
                           dtype=config.dtype).to(device)
    ddp = DDP(reference, device_ids=[device] if device.type == "cuda" else None)
    F.cross_entropy(ddp(X), y).backward()
    return {"hand": [p.grad.cpu() for p in model.parameters()],
            "ddp": [p.grad.cpu() for p in reference.parameters()]}


def failing_worker(rank: int, world_size: int, bad_rank: int = 1) -> str:
    """A worker that fails on ``bad_rank`` while the others wait for it in a collective."""
    import torch
    import torch.distributed as dist

    if rank == bad_rank:
        raise ValueError(f"rank {rank}: shard file 'part-{rank}.npz' has 29 columns, expected 30")
    dist.all_reduce(torch.ones(1, device=_device()))  # the healthy ranks block here until killed
    return "unreachable"


def hogwild_worker(rank: int, world_size: int, model, counter, ready, config: Config, data,
                   eval_every: int = 5) -> dict:
    """Hogwild! SGD: every process updates the same shared-memory ``model`` without locks.

    ``counter`` (a shared one-element tensor) counts updates over all processes (without a
    lock, so two simultaneous increments can count as one: a Hogwild race in miniature); the
    *staleness* of an update is how many updates of other processes landed between reading
    the parameters and writing this update. ``ready`` (a shared tensor of ``world_size``
    zeros) lines the processes up, so that they really run at the same time (spawned
    processes start seconds apart). Rank 0 also records the full training loss.
    """
    import torch
    import torch.nn.functional as F

    X, y = data
    gen = torch.Generator().manual_seed(config.seed + rank)
    batch = config.global_batch // world_size
    opt = torch.optim.SGD(model.parameters(), lr=config.lr)  # plain SGD: no shared state
    ready[rank] = 1  # each process writes only its own slot: no race
    deadline = time.monotonic() + 60
    while int(ready.sum()) < world_size:
        if time.monotonic() > deadline:
            raise TimeoutError(f"hogwild_worker {rank}: the other processes did not start")
        time.sleep(0.001)
    staleness, curve, t0 = [], [], time.perf_counter()
    for step in range(config.steps):
        idx = torch.randint(len(X), (batch,), generator=gen)
        seen = int(counter.item())  # updates applied when we read the parameters
        opt.zero_grad(set_to_none=True)
        F.cross_entropy(model(X[idx]), y[idx]).backward()
        opt.step()  # writes into the shared tensors, racing with the other process
        staleness.append(int(counter.item()) - seen)
        counter += 1
        if rank == 0 and step % eval_every == 0:
            with torch.no_grad():
                curve.append((time.perf_counter() - t0, float(counter.item()),
                              float(F.cross_entropy(model(X), y))))
    return {"staleness": torch.tensor(staleness), "curve": torch.tensor(curve),
            "seconds": time.perf_counter() - t0}


def pipeline_worker(rank: int, world_size: int, n_micros: list, config: Config, data,
                    width: int = 512, repeats: int = 3) -> dict:
    """A two-stage pipeline (GPipe schedule) on two processes: rank 0 holds the first half of
    the network, rank 1 the second; activations go forward and their gradients backward with
    ``send``/``recv``. The batch ``data = (X, y)`` is cut into ``m`` micro-batches for each
    ``m`` in ``n_micros``. Returns, per ``m``: this stage's gradients, the seconds of the
    fastest of ``repeats`` runs, and its events ``(kind, micro-batch, start, end)``."""
    import torch
    import torch.distributed as dist

    if world_size != 2:
        raise ValueError(f"pipeline_worker: needs 2 processes, got {world_size}")
    device = _device()
    stage = two_stage_model(width, seed=config.seed, dtype=config.dtype)[rank].to(device)
    X, y = (t.to(device) for t in data)
    X = X.to(getattr(torch, config.dtype))
    results = {}
    for m in n_micros:
        if X.shape[0] % m:
            raise ValueError(f"pipeline_worker: a batch of {X.shape[0]} samples does not split "
                             f"into {m} equal micro-batches; choose a multiple of {m}")
        best = None
        for _ in range(repeats):  # keep the fastest run: the others met a busy machine
            stage.zero_grad(set_to_none=True)
            dist.barrier()
            run = _gpipe_step(stage, rank, X, y, m, width)
            if best is None or run["seconds"] < best["seconds"]:
                best = run
        best["grads"] = [p.grad.detach().cpu().clone() for p in stage.parameters()]
        results[m] = best
    return results


def _gpipe_step(stage, rank, X, y, n_micro, width):
    """One forward+backward of the whole batch through a 2-stage GPipe schedule."""
    import torch
    import torch.distributed as dist
    import torch.nn.functional as F

    micro = X.shape[0] // n_micro
    events, acts, outs, sends = [], [], [], []
    _sync(X.device)  # on a GPU the clock is read only after the work has run
    t0 = time.perf_counter()
    for m in range(n_micro):  # forward of every micro-batch, first to last
        s = time.perf_counter() - t0
        if rank == 0:
            a = stage(X[m * micro:(m + 1) * micro])
            acts.append(a)
            sends.append(dist.isend(a.detach(), dst=1))  # do not wait: go on with the next
        else:
            a = torch.empty(micro, width, dtype=X.dtype, device=X.device)
            dist.recv(a, src=0)
            s = time.perf_counter() - t0  # time spent waiting is idle, not compute
            a.requires_grad_(True)
            acts.append(a)
            yb = y[m * micro:(m + 1) * micro]
            # each micro-batch's mean loss, weighted so that the sum is the batch mean
            outs.append(F.cross_entropy(stage(a), yb) * len(yb) / X.shape[0])
        _sync(X.device)
        events.append(("F", m, s, time.perf_counter() - t0))
    for m in reversed(range(n_micro)):  # then backward, last micro-batch first
        s = time.perf_counter() - t0
        if rank == 1:
            outs[m].backward()
            sends.append(dist.isend(acts[m].grad, dst=0))
        else:
            g = torch.empty_like(acts[m])
            dist.recv(g, src=1)
            s = time.perf_counter() - t0
            acts[m].backward(g)
        _sync(X.device)
        events.append(("B", m, s, time.perf_counter() - t0))
    for req in sends:
        req.wait()
    _sync(X.device)
    return {"events": events, "seconds": time.perf_counter() - t0}


def two_stage_model(width: int = 512, *, seed: int = 0, dtype: str = "float32", n_in: int = 30):
    """The MLP that chapter 10 splits in two: ``(stage0, stage1)``, each an ``nn.Sequential``."""
    import torch
    from torch import nn

    torch.manual_seed(seed)
    stage0 = nn.Sequential(nn.Linear(n_in, width), nn.ReLU(), nn.Linear(width, width), nn.ReLU())
    stage1 = nn.Sequential(nn.Linear(width, width), nn.ReLU(), nn.Linear(width, 2))
    return stage0.to(getattr(torch, dtype)), stage1.to(getattr(torch, dtype))


def _init_group(backend: str, rank: int, world_size: int, timeout) -> None:
    """``init_process_group`` for torchrun, with its keys under a prefix for each attempt.

    After ``--max-restarts`` restarts the workers, the new ones may meet the addresses that
    the old ones left in torchrun's key-value store and try to connect to dead processes
    (gloo: "Connection refused"); a prefix per attempt (``TORCHELASTIC_RESTART_COUNT``) keeps
    each attempt's keys apart.
    """
    import torch.distributed as dist

    attempt = os.environ.get("TORCHELASTIC_RESTART_COUNT")
    if attempt is None or "MASTER_ADDR" not in os.environ:
        dist.init_process_group(backend, timeout=timeout)
        return
    agent_store = os.environ.get("TORCHELASTIC_USE_AGENT_STORE") == "True"
    store = dist.TCPStore(os.environ["MASTER_ADDR"], int(os.environ["MASTER_PORT"]),
                          world_size, is_master=rank == 0 and not agent_store, timeout=timeout)
    dist.init_process_group(backend, store=dist.PrefixStore(f"medlab-attempt{attempt}", store),
                            rank=rank, world_size=world_size, timeout=timeout)


def main(argv=None) -> int:
    """Entry point for ``torchrun ... -m medlab.ddp_train`` (or ``python -m`` for 1 process)."""
    import torch
    import torch.distributed as dist

    parser = argparse.ArgumentParser(prog="python -m medlab.ddp_train", description=__doc__
                                     .split("\n")[0])
    defaults = Config()
    parser.add_argument("--steps", type=int, default=defaults.steps)
    parser.add_argument("--global-batch", type=int, default=defaults.global_batch)
    parser.add_argument("--lr", type=float, default=defaults.lr)
    parser.add_argument("--hidden", type=int, default=defaults.hidden)
    parser.add_argument("--dtype", choices=["float32", "float64"], default=defaults.dtype)
    parser.add_argument("--seed", type=int, default=defaults.seed)
    parser.add_argument("--out", dest="checkpoint", default=None,
                        help="rank 0 saves the trained model here (torch.save)")
    parser.add_argument("--snapshot", default=None,
                        help="resume from this file if it exists; rank 0 rewrites it every "
                             "--snapshot-every steps (for torchrun --max-restarts)")
    parser.add_argument("--snapshot-every", type=int, default=10)
    parser.add_argument("--crash-at", type=int, default=0,
                        help="demo: the last rank dies at this step in the first attempt")
    parser.add_argument("--backend", choices=["auto", "gloo", "nccl"], default="auto",
                        help="auto: nccl when every process on this machine has a GPU of "
                             "its own, else gloo on the CPU")
    parser.add_argument("--strategy", choices=["ddp", "fsdp"], default=defaults.strategy)
    parser.add_argument("--log-every", type=int, default=defaults.log_every,
                        help="print the loss every so many steps (0: never)")
    parser.add_argument("--timeout", type=float, default=300.0,
                        help="seconds a collective may wait for the other processes")
    ns = parser.parse_args(argv)
    rank = int(os.environ.get("RANK", 0))
    world_size = int(os.environ.get("WORLD_SIZE", 1))
    backend, device = placement_from_env()  # per machine: nccl only with a GPU per process
    if ns.backend != "auto":
        backend, device = ns.backend, (device if ns.backend == "nccl" else "cpu")
        if backend == "nccl" and not device.startswith("cuda"):
            parser.error("--backend nccl needs a GPU for every process on this machine")
    torch.set_num_threads(int(os.environ.get("OMP_NUM_THREADS", 1)))
    if world_size > 1:
        if backend == "nccl":
            torch.cuda.set_device(torch.device(device))
        _init_group(backend, rank, world_size, dt.timedelta(seconds=ns.timeout))
    config = Config(steps=ns.steps, global_batch=ns.global_batch, lr=ns.lr, hidden=ns.hidden,
                    dtype=ns.dtype, seed=ns.seed, checkpoint=ns.checkpoint,
                    snapshot=ns.snapshot, snapshot_every=ns.snapshot_every if ns.snapshot else 0,
                    crash_at=ns.crash_at, strategy=ns.strategy, log_every=ns.log_every,
                    device="auto" if world_size > 1 else device.split(":")[0])
    try:
        out = train(config, rank, world_size, data=wdbc_tensors(config.dtype, config.seed)[:2])
    finally:
        if dist.is_initialized():
            dist.destroy_process_group()
    if rank == 0:
        flat = np.concatenate([p.numpy().ravel() for p in out["params"]])
        print(f"world_size={world_size} backend={backend if world_size > 1 else 'none'} "
              f"device={out['device']} steps={config.steps} resumed_from={out['resumed_from']} "
              f"final_loss={out['losses'][-1]:.6f} param_checksum={flat.sum():.10f} "
              f"checkpoint={config.checkpoint or '-'}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
