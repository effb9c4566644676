"""A small training loop for torch models: epochs with a progress bar, validation, early
stopping, the best weights kept. Chapter 1 writes the loop by hand; later chapters use this.
"""

from __future__ import annotations

import copy
import time
from collections.abc import Callable
from dataclasses import dataclass, field

import numpy as np

from medlab.progress import progress


@dataclass
class History:
    """What :func:`fit` saw: losses per epoch, the validation metric, the best epoch, time."""

    train_loss: list[float] = field(default_factory=list)
    val_loss: list[float] = field(default_factory=list)
    val_metric: list[float] = field(default_factory=list)
    best_epoch: int = -1
    seconds: float = 0.0


def _to(batch, device):
    if isinstance(batch, list | tuple):
        return [b.to(device) if hasattr(b, "to") else b for b in batch]
    return batch.to(device)


def fit(model, train_loader, *, loss_fn: Callable, optimizer, epochs: int,
        val_loader=None, metric: Callable | None = None, scheduler=None, device=None,
        patience: int | None = None, step_scheduler_per_batch: bool = False,
        desc: str = "training") -> History:
    """Train ``model`` for up to ``epochs`` epochs; returns a :class:`History`.

    Batches are ``(inputs, targets)``. ``metric(logits, targets) -> float`` (higher is better)
    is computed on ``val_loader`` each epoch; with ``patience``, training stops when it has not
    improved for that many epochs, and the best weights are restored.
    """
    import torch

    if epochs < 1:
        raise ValueError(f"fit: epochs must be at least 1, got {epochs}")
    if patience is not None and val_loader is None:
        raise ValueError("fit: early stopping (`patience`) needs a `val_loader`")
    device = device or next(model.parameters()).device
    model.to(device)
    history = History()
    best_score, best_state, waited = -np.inf, None, 0
    start = time.perf_counter()
    bar = progress(range(epochs), desc=desc, unit="epoch")
    for epoch in bar:
        model.train()
        total, count = 0.0, 0
        for inputs, targets in train_loader:
            inputs, targets = _to(inputs, device), _to(targets, device)
            optimizer.zero_grad(set_to_none=True)
            loss = loss_fn(model(inputs), targets)
            loss.backward()
            optimizer.step()
            if scheduler is not None and step_scheduler_per_batch:
                scheduler.step()
            total += loss.item() * len(inputs)
            count += len(inputs)
        if scheduler is not None and not step_scheduler_per_batch:
            scheduler.step()
        history.train_loss.append(total / max(count, 1))
        postfix = {"loss": f"{history.train_loss[-1]:.4f}"}
        if val_loader is not None:
            logits, targets = predict(model, val_loader, device=device, return_targets=True)
            with torch.no_grad():
                history.val_loss.append(float(loss_fn(logits, targets)))
            score = metric(logits, targets) if metric else -history.val_loss[-1]
            if metric:
                history.val_metric.append(float(score))
            postfix["val"] = f"{float(score):.4f}"
            if score > best_score:
                best_score, waited = score, 0
                history.best_epoch = epoch
                best_state = copy.deepcopy(model.state_dict())
            else:
                waited += 1
                if patience is not None and waited >= patience:
                    break
        if hasattr(bar, "set_postfix"):
            bar.set_postfix(postfix)
    if hasattr(bar, "close"):
        bar.close()
    if best_state is not None and patience is not None:
        model.load_state_dict(best_state)
    history.seconds = time.perf_counter() - start
    return history


def predict(model, loader, *, device=None, return_targets: bool = False):
    """Concatenate the model's outputs (logits) over ``loader``, in evaluation mode.

    Batches may be ``(inputs, targets)`` or bare inputs; outputs stay on the CPU.
    """
    import torch

    device = device or next(model.parameters()).device
    model.eval()
    outputs, targets = [], []
    with torch.no_grad():
        for batch in loader:
            inputs = batch[0] if isinstance(batch, list | tuple) else batch
            outputs.append(model(inputs.to(device)).cpu())
            if return_targets:
                if not isinstance(batch, list | tuple) or len(batch) < 2:
                    raise ValueError("predict: return_targets=True needs (inputs, targets) batches")
                targets.append(batch[1].cpu())
    logits = torch.cat(outputs)
    return (logits, torch.cat(targets)) if return_targets else logits


def count_parameters(model) -> int:
    """Number of trainable parameters."""
    return sum(p.numel() for p in model.parameters() if p.requires_grad)
