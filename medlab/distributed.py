"""Run a function on several worker processes, safely, from a notebook or a test (chapter 10).

:func:`launch` starts ``world_size`` fresh Python processes (the *spawn* start method, the only
one that is safe with threads, CUDA and Jupyter), sets up a ``torch.distributed`` process group
among them on 127.0.0.1 (nccl only when every process has a GPU of its own, else gloo on the
CPU: :func:`placement`), calls ``fn(rank, world_size, *args)``
in each, and returns the per-rank results. It never hangs:

- each worker writes its result to a file (``torch.save``), not through a pipe or queue, so a
  large result cannot deadlock the parent (a pipe holds about 64 KB);
- a worker that raises writes its traceback to a file and exits; the parent then kills the other
  workers and raises :class:`WorkerError` with that traceback;
- the process group has a timeout, and the whole launch has a deadline after which every
  worker is killed and :class:`TimeoutError` is raised;
- the port is a free one, chosen by the operating system on 127.0.0.1.

``fn`` must live in an importable module (not in the notebook), because a spawned process
starts from nothing and imports ``fn`` by its module and name. For more than one machine use
``torchrun`` (see :mod:`medlab.ddp_train`).
"""

from __future__ import annotations

import datetime as dt
import os
import socket
import sys
import tempfile
import time
import traceback
from pathlib import Path

__all__ = ["WorkerError", "default_backend", "free_port", "launch", "placement"]


class WorkerError(RuntimeError):
    """A worker process failed; the message holds its rank and its own traceback."""


def free_port(host: str = "127.0.0.1") -> int:
    """A TCP port that is free on ``host`` right now (the operating system picks it)."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind((host, 0))
        return sock.getsockname()[1]


def placement(local_world_size: int = 1, local_rank: int = 0,
              gpu_count: int | None = None) -> tuple[str, str]:
    """The backend and device of one process: ``("nccl", "cuda:<local_rank>")`` or
    ``("gloo", "cpu")`` (chapter 10).

    NCCL needs a GPU of its own for every process: it refuses two ranks on one GPU
    ("Duplicate GPU detected"). So the choice depends on the machine, not on one process:
    ``local_world_size`` is the number of processes that share the GPUs this process sees
    (torchrun's ``LOCAL_WORLD_SIZE`` when one agent runs per machine, as on a cluster), and
    ``gpu_count`` the number of GPUs it sees (``None``: ask torch, which honours
    ``CUDA_VISIBLE_DEVICES``). NCCL and ``cuda:<local_rank>`` when there are at least as many
    GPUs as processes; otherwise gloo on the CPU, for every process alike (a single-GPU
    machine such as Colab, with two processes). Several agents on one machine must each be
    shown GPUs of their own through ``CUDA_VISIBLE_DEVICES`` (see
    :func:`medlab.ddp_train.agent_gpus`), or be given none.
    """
    for name, value in (("local_world_size", local_world_size), ("local_rank", local_rank)):
        if not isinstance(value, int) or isinstance(value, bool) or value < 0:
            raise ValueError(f"placement: {name} must be a non-negative integer, got {value!r}")
    if local_world_size < 1 or local_rank >= local_world_size:
        raise ValueError(f"placement: need 0 <= local_rank < local_world_size, got "
                         f"local_rank={local_rank}, local_world_size={local_world_size}")
    if gpu_count is None:
        import torch

        gpu_count = torch.cuda.device_count() if torch.cuda.is_available() else 0
    if not isinstance(gpu_count, int) or gpu_count < 0:
        raise ValueError(f"placement: gpu_count must be a non-negative integer, got "
                         f"{gpu_count!r}")
    if gpu_count >= local_world_size:
        return "nccl", f"cuda:{local_rank}"
    return "gloo", "cpu"


def default_backend(world_size: int = 1) -> str:
    """``"nccl"`` when there is a CUDA GPU for each of ``world_size`` processes on this
    machine, else ``"gloo"`` (see :func:`placement`).

    NCCL refuses two ranks on one GPU, which is what a single-GPU machine (Colab) would give
    two processes; there the workers use gloo and train on the CPU (chapter 10).
    """
    if not isinstance(world_size, int) or world_size < 1:
        raise ValueError(f"default_backend: world_size must be a positive integer, "
                         f"got {world_size!r}")
    return placement(world_size)[0]


def _worker(fn, rank, world_size, args, backend, host, port, outdir, group_timeout, threads):
    """Body of one spawned process: redirect its output, join the group, run ``fn``, save."""
    out = Path(outdir)
    # The worker's own stdout/stderr go to files: Jupyter would otherwise show a worker's
    # warnings as stderr on the page. The parent prints them (stdout) or raises with them.
    log = open(out / f"rank{rank}.log", "w", buffering=1)  # noqa: SIM115 (lives as long as the process)
    os.dup2(log.fileno(), 1)
    os.dup2(log.fileno(), 2)
    sys.stdout = sys.stderr = log
    try:
        import torch

        if threads:
            torch.set_num_threads(threads)
        if backend:
            import torch.distributed as dist

            os.environ.update({"MASTER_ADDR": host, "MASTER_PORT": str(port), "RANK": str(rank),
                               "WORLD_SIZE": str(world_size), "LOCAL_RANK": str(rank)})
            if backend == "nccl":  # one GPU per process (launch checked there are enough)
                torch.cuda.set_device(rank)
            dist.init_process_group(backend, rank=rank, world_size=world_size,
                                    timeout=dt.timedelta(seconds=group_timeout))
        result = fn(rank, world_size, *args)
        tmp = out / f"rank{rank}.pt.tmp"
        torch.save(result, tmp)
        os.replace(tmp, out / f"rank{rank}.pt")
    except BaseException:
        (out / f"rank{rank}.err").write_text(traceback.format_exc())
        log.flush()
        os._exit(1)  # do not wait for peers that may be blocked in a collective
    try:
        if backend and torch.distributed.is_initialized():
            torch.distributed.destroy_process_group()
    finally:
        log.flush()


def _check_importable(fn) -> None:
    module = getattr(fn, "__module__", None)
    name = getattr(fn, "__qualname__", "")
    if module in (None, "__main__") or "<locals>" in name or "<lambda>" in name:
        raise ValueError(
            f"launch: {getattr(fn, '__name__', fn)!r} is defined in {module or 'no module'}; a "
            "spawned worker imports its function by module and name, so define it at the top "
            "level of a .py module (e.g. medlab.ddp_train.worker), not in the notebook")


def launch(fn, world_size: int = 2, args: tuple = (), *, backend: str | None = "auto",
           timeout: float = 900.0, group_timeout: float = 300.0, threads: int | None = 1,
           host: str = "127.0.0.1", echo: bool = False) -> list:
    """Run ``fn(rank, world_size, *args)`` on ``world_size`` spawned processes (chapter 10).

    ``backend``: ``"auto"`` (nccl with one GPU per process, else gloo: :func:`placement`),
    ``"gloo"``, ``"nccl"``, or
    ``None`` for no process group (e.g. Hogwild workers that share memory instead).
    ``timeout``: seconds for the whole launch; ``group_timeout``: seconds a collective may wait
    (both generous: on a loaded machine a rank may wait long for its peer; a run that exceeds
    them raises :class:`TimeoutError` saying so).
    ``threads``: torch threads per worker (1 keeps two workers on two cores fair).
    Returns the list of the workers' return values (loaded with ``weights_only=True``, so
    return tensors, numbers, strings, lists and dicts of them). ``echo`` prints each worker's
    output. Raises :class:`WorkerError` with the worker's traceback if any worker fails.
    """
    import torch
    import torch.multiprocessing as mp

    if not isinstance(world_size, int) or world_size < 1:
        raise ValueError(f"launch: world_size must be a positive integer, got {world_size!r}")
    if timeout <= 0 or group_timeout <= 0:
        raise ValueError(f"launch: timeouts must be positive, got {timeout}, {group_timeout}")
    _check_importable(fn)
    if backend == "auto":
        backend = default_backend(world_size)
    if backend not in (None, "gloo", "nccl"):
        raise ValueError(f"launch: backend must be 'auto', 'gloo', 'nccl' or None, got {backend!r}")
    if backend == "nccl" and placement(world_size)[0] != "nccl":
        raise ValueError(f"launch: backend 'nccl' needs a GPU for each of the {world_size} "
                         f"processes; use 'gloo' (or 'auto')")
    ctx = mp.get_context("spawn")
    with tempfile.TemporaryDirectory(prefix="medlab-launch-") as outdir:
        port = free_port(host)
        procs = [ctx.Process(target=_worker, name=f"medlab-rank{rank}",
                             args=(fn, rank, world_size, tuple(args), backend, host, port,
                                   outdir, group_timeout, threads))
                 for rank in range(world_size)]
        for p in procs:
            p.start()
        deadline = time.monotonic() + timeout
        failed = None
        try:
            while True:
                codes = [p.exitcode for p in procs]
                failed = next((r for r, c in enumerate(codes) if c not in (None, 0)), None)
                if failed is not None or all(c == 0 for c in codes):
                    break
                if time.monotonic() > deadline:
                    raise TimeoutError(
                        f"launch: workers still running after {timeout:.0f} s (ranks "
                        f"{[r for r, c in enumerate(codes) if c is None]}); all were killed"
                        + _logs(outdir, world_size))
                time.sleep(0.02)
        finally:
            for p in procs:  # stop whoever is left (a failed peer, or the deadline)
                if p.is_alive():
                    p.kill()
            for p in procs:
                p.join(5)
        if echo:
            print(_logs(outdir, world_size).strip())
        if failed is not None:
            # Report the first worker that failed: a peer of a dead worker fails soon after
            # with a mere "connection closed", which is not the cause.
            errs = [Path(outdir) / f"rank{r}.err" for r in range(world_size)]
            first = [r for r in range(world_size) if errs[r].exists()]
            if first:
                failed = min(first, key=lambda r: errs[r].stat().st_mtime_ns)
            err = errs[failed]
            detail = err.read_text() if err.exists() else (
                f"exit code {procs[failed].exitcode} (killed, or crashed without a traceback)")
            raise WorkerError(f"worker rank {failed} of {world_size} failed:\n{detail.rstrip()}"
                              + _logs(outdir, world_size))
        return [torch.load(Path(outdir) / f"rank{r}.pt", weights_only=True)
                for r in range(world_size)]


def _logs(outdir, world_size: int) -> str:
    text = ""
    for rank in range(world_size):
        path = Path(outdir) / f"rank{rank}.log"
        body = path.read_text().strip() if path.exists() else ""
        if body:
            text += f"\n--- output of rank {rank} ---\n{body[-4000:]}"
    return text
