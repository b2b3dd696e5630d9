"""Task data that stays on the host and goes to the device a batch at a time: data larger than memory.

A split mapped from the project file (``project/mapping.py``) is a read-only view of the file's
pages. On the CPU it is the training tensor itself (``torch.from_numpy``: no copy at all; the page
cache holds what is in use). On a GPU it stays on the host when it would not fit beside the model
(``keep_on_host``) and :class:`HostStream` sends each batch: its rows gathered in sorted order
(neighbouring rows of the file read together) into pinned memory, copied with ``non_blocking`` on
a side stream, put back in the batch's order on the device, and the next batch gathered and copied
while this one computes. Other splits go to the device whole, as before.

A split kept on the host on a GPU serves the trainer's batches (``Trainer._fetch``, readouts'
``Trainer.optimize`` too) and evaluation (``Trainer._chunk``). What a strategy takes of it itself
comes to the device in small pieces, gathered where the split is: the memory's samples
(``ExemplarMemory.gather``), herding's and EWC's/MAS's batches, expansion's probe sample. Two things
would copy the split whole instead, so :func:`streaming_refusal` refuses them before anything
trains: joining a task's whole training split with other samples into one tensor
(``StrategySpec.joins_train``: joint, iCaRL, expansion's unified classifier), and carving a
validation split from a streamed training split (the nine tenths that stay would be a copy: a map
has no index views).
"""

from __future__ import annotations

import warnings
from typing import Any, Mapping

import numpy as np
import torch

from modstudio.data.errors import human_bytes
from modstudio.project import features, strategy_specs
from modstudio.project.mapping import mapped_archive
from modstudio.project.strategy_specs import StrategySpec

DEVICE_SHARE = 0.5  # a mapped split goes to a GPU whole only if it takes at most this share of its free memory


def host_tensor(array: np.ndarray) -> torch.Tensor:
    """``array`` as a CPU tensor sharing its memory (a read-only map: nothing writes training data)."""
    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", "The given NumPy array is not writable")
        return torch.from_numpy(array)


def keep_on_host(array: np.ndarray, device: torch.device) -> bool:
    """Whether split ``array`` is trained from the host on ``device``: on the CPU when it is mapped
    from a file (its own pages serve); on CUDA when mapped and too big for the device's free memory."""
    if mapped_archive(array) is None:
        return False
    if device.type == "cpu":
        return True
    if device.type == "cuda":
        free, _ = torch.cuda.mem_get_info(device)
        return array.nbytes > DEVICE_SHARE * free
    return False


def streaming_refusal(spec: StrategySpec, scenario: str, params: Mapping[str, Any], streamed: Mapping[str, int],
                      has_validation: bool, *, task: str = "the task", free: int | None = None) -> str | None:
    """Why a run of ``spec`` cannot train a task whose splits ``streamed`` (name → bytes; "train",
    "val", "test") stay on the host on a GPU, or None when it can. ``has_validation``: whether the
    task has validation data (else a ``spec.validation`` strategy carves some). ``task`` names the
    task and ``free`` is the GPU's free memory, for the message, which says what to do instead."""
    if "train" not in streamed:
        return None  # validation and test splits are only evaluated, a chunk at a time
    why = _copies_train(spec, scenario, params, has_validation)
    if why is None:
        return None
    others = [s.name for s in strategy_specs.specs()
              if _copies_train(s, scenario, s.defaults(), has_validation) is None]
    room = f" ({human_bytes(free)})" if free is not None else ""
    carved_only = spec.validation and not has_validation and _copies_train(spec, scenario, params, True) is None
    carve = "add a validation split to the task, " if carved_only else ""
    return (f"{task}: its training split ({human_bytes(streamed['train'])}, mapped from the project file) takes more "
            f"than {DEVICE_SHARE:.0%} of the GPU's free memory{room}, so it stays on the host and trains a batch at a "
            f"time; but {why}, which would copy it into the computer's memory. To train it, {carve}choose a strategy "
            f"that trains on the split as it is, with its default parameters ({', '.join(others) or 'none'}), or "
            "train on the CPU (device cpu), where the map itself is the training tensor (the copy is then made in "
            "the computer's memory, which must hold it)")


def _copies_train(spec: StrategySpec, scenario: str, params: Mapping[str, Any], has_validation: bool) -> str | None:
    """What in a run of ``spec`` copies a task's whole training split, or None."""
    readout = features.task_inference(spec.name, scenario, params)
    if scenario in spec.joins_train or (readout is not None and readout in spec.joins_train):
        how = f" with task_inference={readout}" if readout in spec.joins_train else ""
        return f"{spec.name}{how} joins the task's whole training split with other samples into one tensor"
    if spec.validation and not has_validation:
        return (f"{spec.name} selects on validation and the task has none, and carving a tenth off the training "
                "split makes the nine tenths that stay a new tensor")
    return None


class HostStream:
    """Batches of host tensors on ``device``, each prefetched while the one before computes.

    Training batches are slices of one shuffled order (``Trainer.fit``): the next batch is the same
    slice one batch on, read from the order's host copy (taken once per epoch, so there is no host
    synchronisation per batch). Evaluation chunks are consecutive: the next chunk follows the last.
    A prefetch that is not asked for next is dropped.
    """

    def __init__(self, device: torch.device) -> None:
        self.device = device
        self.cuda = device.type == "cuda"
        self._side = torch.cuda.Stream(device) if self.cuda else None
        self._order: tuple[torch.Tensor, torch.Tensor] | None = None  # (the order, its host copy)
        self._next: tuple[Any, torch.Tensor, Any] | None = None  # (key, batch, event)
        self.prefetched = 0  # batches served from a prefetch (tests read it)

    # ---------------------------------------------------------------- public

    def batch(self, x: torch.Tensor, index: torch.Tensor) -> torch.Tensor:
        """``x[index]`` on the device; ``index`` (on the device) a slice of the epoch's order."""
        order, at = self._host_order(index)
        rows = order[at:at + len(index)] if order is not None else index.cpu()
        out = self._take((id(x), "batch", id(order), at, len(index)), x, rows)
        if order is not None and at + len(index) < len(order):
            nxt = at + len(index)
            self._prefetch((id(x), "batch", id(order), nxt, min(len(index), len(order) - nxt)),
                           x, order[nxt:nxt + len(index)])
        return out

    def rows(self, x: torch.Tensor, start: int, stop: int) -> torch.Tensor:
        """``x[start:stop]`` on the device, the chunk after it prefetched."""
        out = self._take((id(x), "rows", start, stop), x, slice(start, stop))
        if stop < len(x):
            end = min(len(x), stop + (stop - start))
            self._prefetch((id(x), "rows", stop, end), x, slice(stop, end))
        return out

    # ---------------------------------------------------------------- inside

    def _host_order(self, index: torch.Tensor) -> tuple[torch.Tensor | None, int]:
        """The order ``index`` was sliced from (host copy, cached) and where the slice starts."""
        base = index._base
        if base is None or base.dim() != 1 or index.dim() != 1 or index.stride() != (1,):
            return None, 0
        if self._order is None or self._order[0] is not base:
            self._order = (base, base.cpu())
        return self._order[1], index.storage_offset() - base.storage_offset()

    def _take(self, key, x: torch.Tensor, rows) -> torch.Tensor:
        pending, self._next = self._next, None
        if pending is not None and pending[0] == key:
            self.prefetched += 1
            _, out, event = pending
        else:
            out, event = self._send(x, rows)
        if self.cuda:
            current = torch.cuda.current_stream(self.device)
            current.wait_event(event)
            out.record_stream(current)  # made on the side stream, used (and freed) on this one
        return out

    def _prefetch(self, key, x: torch.Tensor, rows) -> None:
        self._next = (key, *self._send(x, rows))

    def _send(self, x: torch.Tensor, rows) -> tuple[torch.Tensor, Any]:
        """Gather ``rows`` of ``x`` on the host (pinned on CUDA) and start their copy to the device."""
        if isinstance(rows, slice):
            host, back = x[rows], None
            if self.cuda:
                pinned = torch.empty(host.shape, dtype=host.dtype, pin_memory=True)
                pinned.copy_(host)
                host = pinned
        else:
            ordered, perm = torch.sort(rows)  # neighbouring rows of the map read together
            back = torch.empty_like(perm)
            back[perm] = torch.arange(len(perm))  # ordered[back] == rows
            host = torch.empty((len(rows), *x.shape[1:]), dtype=x.dtype, pin_memory=self.cuda)
            torch.index_select(x, 0, ordered, out=host)
            if self.cuda:
                back = back.pin_memory()
        if not self.cuda:
            return (host if back is None else host[back]), None
        with torch.cuda.stream(self._side):
            out = host.to(self.device, non_blocking=True)
            if back is not None:
                out = out[back.to(self.device, non_blocking=True)]
            event = torch.cuda.Event()
            event.record(self._side)
        return out, event
