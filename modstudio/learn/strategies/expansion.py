"""Modular expansion, reuse or grow: a new task reuses the frozen modules of the most similar
earlier task where they help and grows fresh copies where it needs them.

Similarity is measured, not assumed: for every earlier task, a fresh head is trained briefly on
the new task over that task's frozen features, and the best probe accuracy names the source.
Candidates reuse the source's first k trainable nodes (k = depth … 0) and grow the rest; each
trains ``search_epochs`` (0: half the task's epochs, enough for validation accuracy to separate
them). Among those within ``tolerance`` of the best validation accuracy, the one adding the
fewest parameters wins and finishes training. Grown modules start as copies of the source's
(``warm_start``). Earlier tasks' modules are frozen, so nothing learned is forgotten.
"""

from __future__ import annotations

import copy

from modstudio.learn.events import CandidateEvaluated, ModuleAdded, ModuleReused
from modstudio.learn.strategies import implements
from modstudio.learn.strategies.base import Strategy


@implements("expansion")
class Expansion(Strategy):
    def begin_task(self, task: int) -> None:
        """Paths are decided by the search in ``fit_task``."""

    def _search_epochs(self) -> int:
        epochs = self.ctx.settings.epochs
        return min(int(self.params["search_epochs"]) or max(epochs // 2, 1), epochs)

    def planned_epochs(self, task: int) -> int:
        epochs = self.ctx.settings.epochs
        if task == 0:
            return epochs
        probes = task * int(self.params["probe_epochs"]) if task > 1 else 0
        candidates = len(self.net.trainable_nodes) + 1
        return probes + candidates * self._search_epochs() + epochs - self._search_epochs()

    def fit_task(self, task: int) -> None:
        net, ctx = self.net, self.ctx
        epochs = ctx.settings.epochs
        if task == 0:
            net.set_path(0, {})  # the network as initialised
            for node_id in net.trainable_nodes:
                ctx.emit(ModuleAdded(task, node_id, net.paths[0][node_id]))
            ctx.fit(task, epochs)
            return

        source = self._most_similar(task)
        depth = len(net.trainable_nodes)
        net.set_path(task, dict(net.paths[source]))
        head = net.instances(net.head_id)[task]
        head_init = copy.deepcopy(head.state_dict())
        search_epochs = self._search_epochs()
        results = []
        for reused in range(depth, -1, -1):  # cheapest first: a stop mid-search keeps the cheapest
            overrides = self._candidate(source, reused)
            head.load_state_dict(head_init)
            ctx.fit(task, search_epochs, overrides=overrides, phase="search")
            accuracy = ctx.accuracy(task, "val", overrides=overrides)
            new_params = sum(p.numel() for m in overrides.values() for p in m.parameters())
            ctx.emit(CandidateEvaluated(task, reused, accuracy, new_params, source))
            results.append((reused, accuracy, new_params, overrides, copy.deepcopy(head.state_dict())))
        best = max(r[1] for r in results)
        tolerance = float(self.params["tolerance"])
        reused, _, _, overrides, head_state = min(
            (r for r in results if r[1] >= best - tolerance), key=lambda r: (r[2], -r[1])
        )
        head.load_state_dict(head_state)
        path = dict(net.paths[source])
        for node_id in net.trainable_nodes[:reused]:
            ctx.emit(ModuleReused(task, node_id, path[node_id], source))
        for node_id, module in overrides.items():
            net.instances(node_id).append(module)
            path[node_id] = len(net.instances(node_id)) - 1
            ctx.emit(ModuleAdded(task, node_id, path[node_id]))
        net.set_path(task, path)
        ctx.fit(task, epochs - search_epochs)

    def end_task(self, task: int) -> None:
        self.net.freeze_path(task)

    def _candidate(self, source: int, reused: int) -> dict:
        """Fresh trainable copies of the nodes after the first ``reused`` trainable ones."""
        net = self.net
        warm = bool(self.params["warm_start"])
        return {
            node_id: net.new_instance(node_id, copy_of=net.paths[source][node_id] if warm else None)
            for node_id in net.trainable_nodes[reused:]
        }

    def _most_similar(self, task: int) -> int:
        """The earlier task whose frozen features a briefly trained head reads the new task best from."""
        if task == 1:
            return 0
        net, ctx = self.net, self.ctx
        head = net.instances(net.head_id)[task]
        init = copy.deepcopy(head.state_dict())
        scores = []
        for earlier in range(task):
            net.set_path(task, dict(net.paths[earlier]))
            head.load_state_dict(init)
            ctx.fit(task, int(self.params["probe_epochs"]), phase="search")
            scores.append((ctx.accuracy(task, "val"), -earlier))
        head.load_state_dict(init)
        return -max(scores)[1]
