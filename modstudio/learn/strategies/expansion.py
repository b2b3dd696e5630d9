"""Modular expansion, reuse or grow: a new task reuses the frozen modules of the most similar
earlier task where they help and grows fresh copies where it needs them.

Similarity is measured, not assumed: earlier tasks with features of their own are ranked by a
nearest-class-mean classifier on their frozen features (no training), and on the best
``probe_sources`` a fresh head is trained briefly; the best probe accuracy names the source.
Candidates reuse the source's first k trainable nodes and grow the rest (k = depth … 0), or grow
the first k and reuse the rest (``suffix_reuse``: new inputs, similar concepts); each trains
``search_epochs`` (0: half the task's epochs, enough for validation accuracy to separate them).
Among those within ``tolerance`` of the best validation accuracy, the one adding the fewest
parameters wins and finishes training. Grown modules start as copies of the source's
(``warm_start``), and so does the new task's head when both tasks have the same classes (permuted
or rotated inputs: the source's head already reads those classes from the features reused). A
suffix candidate is also tried with its grown modules fresh (``suffix_fresh``): for inputs unlike
the source's (permuted pixels) a copy of its input weights is a poor start, for similar ones
(rotated digits) a good one, and the search tells which. Earlier tasks' modules are frozen, so
nothing learned is forgotten.

Class scenario (``task_inference``): ``gate`` (the default), ``memory`` and ``confidence`` keep
the per-task heads and name the task with a router (``routing.py``); ``unified`` predicts through
one classifier over the concatenated features of every task's path (DER, Yan et al. 2021; MEMO's
shared shallow layers are what reuse gives): after the search, the task's path trains with that
classifier on the new data plus a class-balanced exemplar memory, with DER's auxiliary
new-vs-old head on the new features; then the classifier alone is re-balanced on the memory.
The search always scores candidates as if the task were given: it chooses features, not routing.
"""

from __future__ import annotations

import copy

import torch
import torch.nn.functional as F
from torch import nn

from modstudio.learn.events import CandidateEvaluated, ModuleAdded, ModuleReused
from modstudio.learn.strategies import implements
from modstudio.learn.memory import new_memory, remember
from modstudio.learn.strategies.base import Strategy, TrainSet
from modstudio.learn.strategies.routing import TaskRouter, frozen_features

PROBE_SAMPLE = 1024  # training samples of the new task the ranking of earlier tasks looks at


@implements("expansion")
class Expansion(Strategy):
    def bind(self, ctx) -> None:
        super().bind(ctx)
        mode = self.params["task_inference"]
        self.unified = ctx.class_incremental and mode == "unified"
        needs_memory = ctx.class_incremental and mode in ("unified", "memory")
        self.memory = new_memory(self) if needs_memory else None
        self.router = TaskRouter(self, self.memory) if ctx.class_incremental and not self.unified else None
        self.searching = False
        self.aux: nn.Module | None = None  # DER's auxiliary head while a task trains
        self._setup = None  # (task, its path, feature sources, auxiliary labels): see _unified_setup
        if self.unified:
            self.net.enable_unified(ctx.n_classes)
            self.net.sync_unified()
            self.net.unified.activate(ctx.data(0).union_labels)

    def begin_task(self, task: int) -> None:
        """Paths are decided by the search in ``fit_task``."""

    def _balance_epochs(self) -> int:
        return int(self.params["balance_epochs"]) or self.ctx.settings.epochs

    def _search_epochs(self) -> int:
        epochs = self.ctx.settings.epochs
        return min(int(self.params["search_epochs"]) or max(epochs // 2, 1), epochs)

    def planned_epochs(self, task: int) -> int:
        epochs = self.ctx.settings.epochs
        after = self._balance_epochs() if self.unified else (self.router.epochs() if self.router else 0)
        if task == 0:
            return epochs + after
        probes = min(task, int(self.params["probe_sources"])) * int(self.params["probe_epochs"]) if task > 1 else 0
        candidates = len(self._candidates(len(self.net.trainable_nodes)))
        final = epochs if self.unified else epochs - self._search_epochs()
        return probes + candidates * self._search_epochs() + final + after

    def fit_task(self, task: int) -> None:
        net, ctx = self.net, self.ctx
        epochs = ctx.settings.epochs
        if task == 0:
            net.set_path(0, {})  # the network as initialised
            for node_id in net.trainable_nodes:
                ctx.emit(ModuleAdded(task, node_id, net.paths[0][node_id]))
            ctx.fit(task, epochs)
            return

        self.searching = True  # task-local data and loss, the task's own head
        try:
            overrides, head_state, source = self._search(task)
        finally:
            self.searching = False
        head = net.instances(net.head_id)[task]
        head.load_state_dict(head_state)
        path = dict(net.paths[source])
        for node_id in net.trainable_nodes:
            if node_id not in overrides:
                ctx.emit(ModuleReused(task, node_id, path[node_id], source))
        for node_id, module in overrides.items():
            net.instances(node_id).append(module)
            path[node_id] = len(net.instances(node_id)) - 1
            ctx.emit(ModuleAdded(task, node_id, path[node_id]))
        net.set_path(task, path)
        if self.unified:  # a new objective (every class, the memory): the task's full epochs
            self._start_unified(task)
        ctx.fit(task, epochs if self.unified else epochs - self._search_epochs())
        self.aux = None

    def _search(self, task: int):
        """The reuse-or-grow search: (nodes reused, the grown modules, the head's state, source)."""
        net, ctx = self.net, self.ctx
        source = self._most_similar(task)
        depth = len(net.trainable_nodes)
        net.set_path(task, dict(net.paths[source]))
        head = net.instances(net.head_id)[task]
        if self.params["warm_start"] and torch.equal(ctx.data(task).union_labels, ctx.data(source).union_labels):
            head.load_state_dict(net.instances(net.head_id)[source].state_dict())  # the same classes
        head_init = copy.deepcopy(head.state_dict())
        search_epochs = self._search_epochs()
        results = []
        for kind, grown, init in self._candidates(depth):
            overrides = self._candidate(source, grown, init == "copy")
            head.load_state_dict(head_init)
            ctx.fit(task, search_epochs, overrides=overrides, phase="search")
            accuracy = ctx.accuracy(task, "val", overrides=overrides, local=True)
            new_params = sum(p.numel() for m in overrides.values() for p in m.parameters())
            reused = depth - len(grown)
            ctx.emit(CandidateEvaluated(task, reused, accuracy, new_params, source, kind, init))
            results.append((overrides, accuracy, new_params, copy.deepcopy(head.state_dict())))
        best = max(r[1] for r in results)
        tolerance = float(self.params["tolerance"])
        overrides, _, _, head_state = min(
            (r for r in results if r[1] >= best - tolerance), key=lambda r: (r[2], -r[1])
        )
        return overrides, head_state, source

    def _candidates(self, depth: int) -> list[tuple[str, list[int], str]]:
        """(kind, positions of the trainable nodes grown, how they start: "copy" or "fresh"): prefix
        reuse keeps the source's first k nodes and grows the rest (k = depth … 0; new classes,
        similar inputs); suffix reuse grows the first k and keeps the rest (k = 1 … depth−1; new
        inputs, similar concepts, e.g. permuted pixels), copied and, with ``suffix_fresh``, fresh.
        Cheapest first."""
        init = "copy" if self.params["warm_start"] else "fresh"
        prefix = [("prefix", list(range(reused, depth)), init) for reused in range(depth, -1, -1)]
        suffix = []
        if self.params["suffix_reuse"]:
            inits = (init, "fresh") if init == "copy" and self.params["suffix_fresh"] else (init,)
            suffix = [("suffix", list(range(grown)), start) for grown in range(1, depth) for start in inits]
        return sorted(prefix + suffix, key=lambda c: len(c[1]))

    def end_task(self, task: int) -> None:
        self.net.freeze_path(task)
        if self.memory is not None:
            remember(self, self.memory, task)
        if self.unified:
            self._balance(task)
        elif self.router is not None:
            self.router.after_task(task)

    # ------------------------------------------------------------------ class scenario: unified classifier

    def _start_unified(self, task: int) -> None:
        """A classifier block for the task's features if they are new, and DER's auxiliary head on them."""
        net = self.net
        net.sync_unified()
        net.unified.activate(self.ctx.data(task).union_labels)
        if net.feature_sources(task + 1)[-1] == task:
            classes = self.ctx.data(task).union_labels.numel()
            self.aux = nn.Linear(net.feature_width, classes + 1).to(net.unified.bias.device)

    def train_set(self, task: int) -> TrainSet:
        """Unified: the task's data and the memory, labels over every class, with task ids."""
        if not self.unified or self.searching:
            return super().train_set(task)
        ctx = self.ctx
        data = ctx.data(task)
        x, y, ids = data.train_x, ctx.union_labels(task, data.train_y), torch.full_like(data.train_y, task)
        if len(self.memory):
            mx, local, mids = self.memory.gather(ctx)
            x, y, ids = torch.cat([x, mx]), torch.cat([y, self._union_of(mids, local)]), torch.cat([ids, mids])
        return x, y, ids

    def _union_of(self, task_ids: torch.Tensor, local: torch.Tensor) -> torch.Tensor:
        """Union labels of samples from several tasks, given their task-local labels."""
        out = torch.empty_like(local)
        for t in torch.unique(task_ids).tolist():
            mask = task_ids == t
            out[mask] = self.ctx.union_labels(t, local[mask])
        return out

    def extra_parameters(self, task: int) -> list:
        if not self.unified or self.searching:
            return []
        return [*self.net.unified.parameters(), *(self.aux.parameters() if self.aux is not None else ())]

    def loss(self, task, x, y, task_ids):
        if not self.unified or self.searching:
            return super().loss(task, x, y, task_ids)
        net = self.net
        sources, aux_labels = self._unified_setup(task)
        features = net.head_inputs(x, sources)
        loss = F.cross_entropy(net.unified(features), y)
        if self.aux is not None:
            loss = loss + float(self.params["aux_weight"]) * F.cross_entropy(self.aux(features[-1]), aux_labels[y])
        return loss

    def _unified_setup(self, task: int) -> tuple[list[int], torch.Tensor]:
        """What every batch of ``task``'s unified training needs, worked out once per path: the
        feature sources, and each class's auxiliary label (its index among the new task's classes;
        an old class: one past them)."""
        path = self.net.paths[task]
        if self._setup is None or self._setup[0] != task or self._setup[1] is not path:
            union = self.ctx.data(task).union_labels
            aux_labels = torch.full((self.ctx.n_classes,), len(union), dtype=torch.long, device=union.device)
            aux_labels[union] = torch.arange(len(union), device=union.device)
            self._setup = (task, path, self.net.feature_sources(task + 1), aux_labels)
        return self._setup[2], self._setup[3]

    def _balance(self, task: int) -> None:
        """DER's classifier learning step: the unified classifier alone, on the memory alone."""
        ctx, net = self.ctx, self.net
        if not len(self.memory):
            return
        x, local, task_ids = self.memory.gather(ctx)
        y = self._union_of(task_ids, local)
        sources = net.feature_sources(task + 1)
        features = frozen_features(net, x, sources)

        def loss(y, *features):
            return F.cross_entropy(net.unified(list(features)), y)

        ctx.optimize(task, list(net.unified.parameters()), (y, *features), loss, self._balance_epochs(), "balance",
                     ctx.settings.seed * 1009 + task)

    def _candidate(self, source: int, grown: list[int], warm: bool) -> dict:
        """New trainable instances of the trainable nodes at positions ``grown``: copies of the
        source's (``warm``) or initialised anew."""
        net = self.net
        nodes = [net.trainable_nodes[i] for i in grown]
        return {node_id: net.new_instance(node_id, copy_of=net.paths[source][node_id] if warm else None)
                for node_id in nodes}

    def _ranked_sources(self, task: int) -> list[int]:
        """Earlier tasks with features of their own, best first by a cheap statistic: how well a
        nearest-class-mean classifier on each path's frozen features (a sample of the new task's
        training data) labels the new task's validation data. One forward pass per path, no
        training, so ranking every earlier task stays cheap as the sequence grows."""
        net, ctx = self.net, self.ctx
        data = ctx.data(task)
        n = min(len(data.train_x), PROBE_SAMPLE)
        y = data.train_y[:n]
        x = data.train_x[:n].to(y.device)  # the sample only, of a split streamed from the host
        sources = net.feature_sources(task)
        with torch.no_grad():
            scored = []
            for earlier in sources:
                if data.val_x.device == y.device:
                    train_f, val_f = (f.flatten(1) for f in net.head_inputs(torch.cat([x, data.val_x]), [earlier])[0]
                                      .split([n, len(data.val_x)]))
                else:  # a validation split streamed from the host: its features a chunk at a time
                    train_f = net.head_inputs(x, [earlier])[0].flatten(1)
                    val_f = torch.cat([net.head_inputs(data.val_x[i:i + PROBE_SAMPLE].to(y.device), [earlier])[0]
                                       .flatten(1) for i in range(0, len(data.val_x), PROBE_SAMPLE)])
                classes = torch.unique(y)
                means = torch.stack([train_f[y == c].mean(0) for c in classes])
                predicted = classes[torch.cdist(val_f, means).argmin(1)]
                scored.append((float((predicted == data.val_y).float().mean()) if len(val_f) else 0.0, -earlier))
        return [-t for _, t in sorted(scored, reverse=True)]

    def _most_similar(self, task: int) -> int:
        """The earlier task whose frozen features a briefly trained head reads the new task best from,
        among the few the cheap ranking puts first (``probe_sources``)."""
        if task == 1:
            return 0
        net, ctx = self.net, self.ctx
        ranked = self._ranked_sources(task)
        shortlist = ranked[:max(int(self.params["probe_sources"]), 1)]
        if len(shortlist) == 1:
            return shortlist[0]
        head = net.instances(net.head_id)[task]
        init = copy.deepcopy(head.state_dict())
        scores = []
        for earlier in shortlist:
            net.set_path(task, dict(net.paths[earlier]))
            head.load_state_dict(init)
            ctx.fit(task, int(self.params["probe_epochs"]), phase="search")
            scores.append((ctx.accuracy(task, "val", local=True), -earlier))
        head.load_state_dict(init)
        return -max(scores)[1]
