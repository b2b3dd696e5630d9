"""One exemplar memory for every strategy that rehearses earlier samples.

Replay, DER++, class-incremental expansion and the memory task router all keep samples of earlier
tasks. They keep them here, within one budget (the ``memory`` parameter, in samples) and by one
``selection`` rule, so comparing them compares methods, not memories. The memory holds
(task, index into that task's training split) pairs rather than copies: the data is on the
training device already, and the pairs are what the project file stores with the run.

Selections:

- ``reservoir``: Vitter's algorithm R over every sample offered, in a seeded random order: each
  sample offered so far is kept with the same probability, budget / offered. Not class-balanced.
  Sample for sample what replay kept before this module existed, so its figures do not change.
- ``random``: class-balanced. After each task the budget is split evenly over every class seen so
  far (a class is a (task, task-local label) pair); each class keeps a seeded random subset, and
  older classes shrink to make room by keeping the first k of theirs.
- ``herding``: class-balanced like ``random``, each class in iCaRL's herding order (Rebuffi et al.
  2017) on features the caller provides: every next pick keeps the mean of the (L2-normalised)
  features picked so far as close as possible to the class mean, so the first pick is the sample
  nearest the mean. Shrinking keeps the first k of that order, as iCaRL does.

Class-balanced means equal shares ± 1 (the remainder of budget / classes goes to the earliest
classes); a class with fewer samples than its share keeps them all, and what it leaves is spread
over the others. The memory may also carry one tensor per item (DER++ keeps the logits it
remembered there); it leaves the memory with its item.
"""

from __future__ import annotations

import contextlib
import random
from collections import Counter
from typing import TYPE_CHECKING, Callable, Sequence

import torch
import torch.nn.functional as F

if TYPE_CHECKING:
    from modstudio.learn.context import TaskContext

SELECTIONS = ("reservoir", "random", "herding")
FEATURE_BATCH = 4096  # samples per forward pass when computing herding features

Item = tuple[int, int]  # (task, index into that task's training split)

__all__ = ["ExemplarMemory", "SELECTIONS", "balanced_shares", "herding_order", "new_memory", "remember"]


class ExemplarMemory:
    """Earlier tasks' samples, as (task, index) pairs, never more than ``budget`` of them.

    ``add_task`` after each task offers its training split; ``sample`` draws positions (indices
    into ``items``) for a rehearsal batch and ``gather`` turns positions into tensors.
    """

    def __init__(self, budget: int, selection: str = "reservoir", seed: int = 0) -> None:
        if selection not in SELECTIONS:
            raise ValueError(f"unknown memory selection {selection!r}; use {', '.join(SELECTIONS)}")
        if budget < 0:
            raise ValueError(f"a memory budget is a number of samples, at least 0, not {budget}")
        self.budget = int(budget)
        self.selection = selection
        self._rng = random.Random(seed)  # replay's reservoir used random.Random(seed) the same way
        self._offered = 0  # reservoir: samples offered so far
        self._items: list[Item] = []
        self._labels: list[int] = []  # each item's task-local label
        self._classes: dict[tuple[int, int], list[int]] = {}  # balanced: class → kept indices, best first
        self._tasks: set[int] = set()
        self._extras: dict[Item, torch.Tensor] = {}

    def __len__(self) -> int:
        return len(self._items)

    @property
    def items(self) -> list[Item]:
        """What the memory holds, in position order (a copy)."""
        return list(self._items)

    # ------------------------------------------------------------------ filling

    def add_task(self, task: int, labels: torch.Tensor | Sequence[int],
                 features: Callable[[torch.Tensor], torch.Tensor] | None = None,
                 x: torch.Tensor | None = None) -> list[int]:
        """Offer every sample of ``task``'s training split; returns the positions of those kept.

        ``labels``: the task-local label of every training sample (index i is sample i).
        ``features`` and ``x``: for ``herding`` only (ignored otherwise), a function from a batch of
        inputs to their features (the caller's network, in evaluation mode, without gradients) and
        the task's training inputs it is applied to. A task is offered once.
        """
        if task in self._tasks:
            raise ValueError(f"task {task} was offered to the memory already")
        self._tasks.add(task)
        local = [int(v) for v in torch.as_tensor(labels).reshape(-1).tolist()]
        if self.selection == "reservoir":
            self._reservoir(task, local)
        else:
            self._balance(task, local, features, x)
        kept = set(self._items)
        self._extras = {item: value for item, value in self._extras.items() if item in kept}
        return [p for p, (t, _) in enumerate(self._items) if t == task]

    def _reservoir(self, task: int, labels: list[int]) -> None:
        n = len(labels)
        for i in self._rng.sample(range(n), n):
            self._offered += 1
            if len(self._items) < self.budget:
                self._items.append((task, i))
                self._labels.append(labels[i])
            else:
                j = self._rng.randrange(self._offered)
                if j < self.budget:
                    self._items[j] = (task, i)
                    self._labels[j] = labels[i]

    def _balance(self, task: int, labels: list[int], features, x) -> None:
        by_class: dict[int, list[int]] = {}
        for i, label in enumerate(labels):
            by_class.setdefault(label, []).append(i)
        classes = sorted([*self._classes, *((task, label) for label in by_class)])
        # An old class can only shrink (it keeps no more than it has); a new one offers all its samples.
        capacities = [len(self._classes[c]) if c in self._classes else len(by_class[c[1]]) for c in classes]
        shares = dict(zip(classes, balanced_shares(capacities, self.budget)))
        encoded = None
        for c in classes:
            if c in self._classes:
                del self._classes[c][shares[c]:]
                continue
            indices = by_class[c[1]]
            if self.selection == "random":
                order = self._rng.sample(indices, shares[c])
            else:
                if encoded is None:
                    encoded = _normalised_features(features, x, len(labels))
                picks = herding_order(encoded[torch.tensor(indices, device=encoded.device)], shares[c])
                order = [indices[p] for p in picks]
            self._classes[c] = order
        self._items = [(t, i) for (t, _), kept in sorted(self._classes.items()) for i in kept]
        self._labels = [label for (_, label), kept in sorted(self._classes.items()) for _ in kept]

    # ------------------------------------------------------------------ reading

    def sample(self, n: int, generator: torch.Generator) -> list[int]:
        """``min(n, len(self))`` positions drawn uniformly with replacement (replay's draw)."""
        if not self._items or n <= 0:
            return []
        return torch.randint(len(self._items), (min(n, len(self._items)),), generator=generator).tolist()

    def gather(self, ctx: "TaskContext", positions: Sequence[int] | None = None
               ) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
        """(inputs, training labels, task ids) of the items at ``positions`` (every item when None).

        Samples come grouped by task, tasks in the order they first appear in ``positions``
        (``extras`` follows the same order); the labels are ``ctx.labels``: task-local, or indices
        of the shared head over every class. The samples are gathered where the split is (on the
        host, for one streamed from there: ``learn/streaming.py``) and come on the training device.
        """
        order = self._grouped(range(len(self._items)) if positions is None else positions)
        if not order:
            data = ctx.data(0)
            return data.train_x[:0].to(data.train_y.device), ctx.labels(0, data.train_y[:0]), data.train_y[:0].clone()
        rx, ry, rt = [], [], []
        start = 0
        while start < len(order):
            t = self._items[order[start]][0]
            end = start
            while end < len(order) and self._items[order[end]][0] == t:
                end += 1
            data = ctx.data(t)
            device = data.train_y.device  # the training device (labels never stay on the host)
            index = torch.tensor([self._items[p][1] for p in order[start:end]], device=data.train_x.device)
            rx.append(data.train_x[index].to(device))
            ry.append(ctx.labels(t, data.train_y[index.to(device)]))
            rt.append(torch.full((end - start,), t, device=device, dtype=torch.long))
            start = end
        return torch.cat(rx), torch.cat(ry), torch.cat(rt)

    def _grouped(self, positions: Sequence[int]) -> list[int]:
        by_task: dict[int, list[int]] = {}
        for p in positions:
            by_task.setdefault(self._items[p][0], []).append(p)
        return [p for group in by_task.values() for p in group]

    def class_counts(self) -> dict[tuple[int, int], int]:
        """Samples kept per class, (task, local label) → count, in class order (balanced
        selections list every class seen, those with none left too)."""
        counts = Counter({c: 0 for c in self._classes})
        counts.update((t, label) for (t, _), label in zip(self._items, self._labels))
        return dict(sorted(counts.items()))

    # ------------------------------------------------------------------ what travels with an item

    def set_extras(self, positions: Sequence[int], values: torch.Tensor) -> None:
        """Keep ``values[k]`` with the item at ``positions[k]`` (DER++: the logits at insertion)."""
        if len(positions) != len(values):
            raise ValueError(f"{len(positions)} positions but {len(values)} values")
        for p, value in zip(positions, values):
            self._extras[self._items[p]] = value.detach().clone()

    def extras(self, positions: Sequence[int]) -> list[torch.Tensor]:
        """The tensors kept with the items at ``positions``, in ``gather``'s order."""
        return [self._extras[self._items[p]] for p in self._grouped(positions)]

    # ------------------------------------------------------------------ accounting

    def nbytes(self, ctx: "TaskContext") -> int:
        """Bytes the memory stands for: each sample as the training device stores it (input and
        label), plus what travels with the items (DER++'s logits). The pairs themselves are not counted."""
        total = 0
        for t, count in Counter(t for t, _ in self._items).items():
            data = ctx.data(t)
            per_sample = data.train_x[0].nelement() * data.train_x.element_size() + data.train_y.element_size()
            total += count * per_sample
        return total + sum(v.nelement() * v.element_size() for v in self._extras.values())

    def record(self) -> list[list[int]]:
        """The items as JSON: ``[[task, index], …]``."""
        return [[t, i] for t, i in self._items]


def new_memory(strategy) -> ExemplarMemory:
    """A strategy's memory, from its ``memory`` and ``memory_selection`` parameters and the run's seed."""
    params = strategy.params
    return ExemplarMemory(int(params["memory"]), params["memory_selection"], strategy.ctx.settings.seed)


def remember(strategy, memory: ExemplarMemory, task: int,
             extras: Callable[[torch.Tensor, int], torch.Tensor] | None = None) -> list[int]:
    """Offer ``task``'s training split to ``memory`` after the task, and tell the run (the run keeps
    the memory). Herding ranks on the features ``task``'s own path gives its head. ``extras(x, task)``,
    when given, computes what each newly kept sample carries (DER++: its logits). Both are computed
    in evaluation mode without gradients. Returns the positions of the samples kept from ``task``."""
    ctx, net = strategy.ctx, strategy.net
    data = ctx.data(task)
    device = data.train_y.device  # herding's batches of a split streamed from the host come here
    with _evaluation(net):
        added = memory.add_task(task, data.train_y, features=lambda x: net.head_inputs(x.to(device), [task])[0],
                                x=data.train_x)
        if extras is not None and added:
            x, _, _ = memory.gather(ctx, added)  # one task: gather keeps the order of ``added``
            memory.set_extras(added, torch.cat([extras(x[i:i + FEATURE_BATCH], task)
                                                for i in range(0, len(x), FEATURE_BATCH)]))
    ctx.emit_memory(task, memory)
    return added


@contextlib.contextmanager
def _evaluation(net):
    """The network in evaluation mode, without gradients, inside; its previous mode after."""
    mode = net.training
    net.eval()
    try:
        with torch.no_grad():
            yield
    finally:
        net.train(mode)


def balanced_shares(capacities: Sequence[int], budget: int) -> list[int]:
    """Split ``budget`` evenly over classes that hold ``capacities[k]`` samples each (water-filling).

    A class that cannot fill an equal share keeps all it has; the others get equal shares, the
    remainder one each to the earliest. The shares never sum past ``budget``.
    """
    shares = [0] * len(capacities)
    left, open_ = budget, list(range(len(capacities)))
    while open_:
        level = left // len(open_)
        small = [k for k in open_ if capacities[k] <= level]
        if not small:
            break
        for k in small:
            shares[k] = capacities[k]
            left -= capacities[k]
        open_ = [k for k in open_ if capacities[k] > level]
    if open_:
        base, extra = divmod(left, len(open_))
        for rank, k in enumerate(open_):
            shares[k] = base + (rank < extra)  # capacity > base, so base + 1 fits
    return shares


def herding_order(features: torch.Tensor, k: int) -> list[int]:
    """The first ``k`` rows of ``features`` in herding order (iCaRL, Rebuffi et al. 2017, Alg. 4):
    pick i_m = argmin ‖μ − (φ_i + Σ_{j<m} φ_{i_j}) / m‖ over rows not yet picked, μ the mean row."""
    n = len(features)
    k = min(k, n)
    if k <= 0:
        return []
    features = features.flatten(1).double()
    mean = features.mean(0)
    chosen: list[int] = []
    running = torch.zeros_like(mean)
    taken = torch.zeros(n, dtype=torch.bool, device=features.device)
    for m in range(1, k + 1):
        distance = (mean - (running + features) / m).pow(2).sum(1)
        distance[taken] = float("inf")
        pick = int(distance.argmin())
        chosen.append(pick)
        taken[pick] = True
        running += features[pick]
    return chosen


def _normalised_features(features, x, n: int) -> torch.Tensor:
    """The L2-normalised features of a task's ``n`` training inputs, as iCaRL herds on them."""
    if features is None or x is None:
        raise ValueError("herding selects on features: add_task needs features= and x=")
    if len(x) != n:
        raise ValueError(f"x has {len(x)} samples but labels has {n}")
    with torch.no_grad():
        parts = [features(x[i:i + FEATURE_BATCH]) for i in range(0, n, FEATURE_BATCH)]
    return F.normalize(torch.cat(parts).flatten(1).float(), dim=1)
