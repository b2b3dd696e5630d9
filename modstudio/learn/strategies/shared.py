"""Shared-path strategies: one set of weights for all tasks, protected (or not) against forgetting."""

from __future__ import annotations

import copy
import random

import torch

from modstudio.learn.strategies.base import Strategy, TrainSet, distillation


class Finetune(Strategy):
    name = "finetune"
    title = "Fine-tune"
    doc = "One shared network trained on each task in turn, with no protection: the forgetting baseline."


class Joint(Strategy):
    name = "joint"
    title = "Joint (upper reference)"
    doc = "Trains on the data of every task seen so far together: what continual methods aim for."

    def train_set(self, task: int) -> TrainSet:
        xs, ys, ids = [], [], []
        for seen in range(task + 1):
            data = self.trainer.data[seen]
            xs.append(data.train_x)
            ys.append(self.trainer.train_labels(seen, data.train_y))
            ids.append(torch.full_like(data.train_y, seen))
        return torch.cat(xs), torch.cat(ys), torch.cat(ids)


class EWC(Strategy):
    """Online EWC (Schwarz et al. 2018): F ← γ·F + F_task, penalty λ/2 · Σ F (θ − θ*)²."""

    name = "ewc"
    title = "EWC (online)"
    doc = "Elastic weight consolidation: a quadratic penalty keeps weights important to old tasks close."
    defaults = {"lambda": 1000.0, "gamma": 1.0, "fisher_samples": 1024, "fisher_batch": 16}

    def bind(self, trainer) -> None:
        super().bind(trainer)
        self.fisher: dict[str, torch.Tensor] = {}
        self.anchor: dict[str, torch.Tensor] = {}

    def _shared(self, task: int) -> dict[str, torch.nn.Parameter]:
        """Parameters every task shares: the path without the task-specific head."""
        head = self.net.instances(self.net.head_id)
        head_params = {id(p) for m in head for p in m.parameters()}
        return {f"{i}": p for i, p in enumerate(self.net.path_parameters(task)) if id(p) not in head_params}

    def loss(self, task, x, y, task_ids):
        loss = super().loss(task, x, y, task_ids)
        if self.fisher:
            penalty = sum(
                (self.fisher[k] * (p - self.anchor[k]).pow(2)).sum() for k, p in self._shared(task).items()
            )
            loss = loss + 0.5 * self.params["lambda"] * penalty
        return loss

    def end_task(self, task: int) -> None:
        """Diagonal empirical Fisher of this task's loss, from mini-batches of its training data."""
        x, y, _ = super().train_set(task)
        n = min(len(x), int(self.params["fisher_samples"]))
        batch = max(1, int(self.params["fisher_batch"]))
        shared = self._shared(task)
        fisher = {k: torch.zeros_like(p) for k, p in shared.items()}
        was_training = self.net.training
        self.net.eval()
        batches = 0
        trainer = self.trainer
        for start in range(0, n, batch):
            batches += 1
            if (batches - 1) % trainer.world_size != trainer.rank:
                continue  # several processes: each takes every world_size-th batch; summed below
            self.net.zero_grad(set_to_none=True)
            self.trainer.classification_loss(task, x[start:start + batch], y[start:start + batch], None).backward()
            for k, p in shared.items():
                if p.grad is not None:
                    fisher[k] += p.grad.detach().pow(2)
        trainer.all_reduce_sum_(list(fisher.values()))
        self.net.zero_grad(set_to_none=True)
        self.net.train(was_training)
        gamma = self.params["gamma"]
        for k in fisher:
            fisher[k] /= max(batches, 1)
            self.fisher[k] = gamma * self.fisher[k] + fisher[k] if k in self.fisher else fisher[k]
            self.anchor[k] = shared[k].detach().clone()


class Replay(Strategy):
    """Experience replay with a reservoir buffer (Vitter's algorithm R), mixed into every batch."""

    name = "replay"
    title = "Experience replay"
    doc = "Keeps a small reservoir of earlier samples and rehearses them alongside every new batch."
    defaults = {"buffer_size": 200, "replay_batch": 0}

    def bind(self, trainer) -> None:
        super().bind(trainer)
        self.rng = random.Random(trainer.settings.seed)
        self.seen = 0
        self.buffer: list[tuple[int, int]] = []  # (task, index into that task's training split)
        self.generator = torch.Generator().manual_seed(trainer.settings.seed + 1)

    def loss(self, task, x, y, task_ids):
        loss = super().loss(task, x, y, task_ids)
        if not self.buffer:
            return loss
        size = int(self.params["replay_batch"]) or self.trainer.batch_global or len(x)
        picks = torch.randint(len(self.buffer), (min(size, len(self.buffer)),), generator=self.generator).tolist()
        picks = self.trainer.share(picks)  # every process draws the same picks and replays its part
        if not picks:
            return loss
        by_task: dict[int, list[int]] = {}
        for pick in picks:
            t, i = self.buffer[pick]
            by_task.setdefault(t, []).append(i)
        rx, ry, rt = [], [], []
        for t, indices in by_task.items():
            data = self.trainer.data[t]
            index = torch.tensor(indices, device=data.train_x.device)
            rx.append(data.train_x[index])
            ry.append(self.trainer.train_labels(t, data.train_y[index]))
            rt.append(torch.full((len(indices),), t, device=data.train_x.device, dtype=torch.long))
        replay = self.trainer.classification_loss(task, torch.cat(rx), torch.cat(ry), torch.cat(rt))
        return (loss * len(x) + replay * len(picks)) / (len(x) + len(picks))

    def end_task(self, task: int) -> None:
        """Offer every training sample of the task to the reservoir, in a seeded random order."""
        n = len(self.trainer.data[task].train_x)
        capacity = int(self.params["buffer_size"])
        for i in self.rng.sample(range(n), n):
            self.seen += 1
            if len(self.buffer) < capacity:
                self.buffer.append((task, i))
            else:
                j = self.rng.randrange(self.seen)
                if j < capacity:
                    self.buffer[j] = (task, i)


class LwF(Strategy):
    """Learning without Forgetting (Li & Hoiem 2016): distil the old model's outputs on new data."""

    name = "lwf"
    title = "Learning without Forgetting"
    doc = "Keeps old tasks' outputs on the new data close to what the network answered before (distillation)."
    defaults = {"alpha": 1.0, "temperature": 2.0}

    def bind(self, trainer) -> None:
        super().bind(trainer)
        self.teacher = None

    def begin_task(self, task: int) -> None:
        super().begin_task(task)
        if task > 0:
            self.teacher = copy.deepcopy(self.net).eval()
            for p in self.teacher.parameters():
                p.requires_grad_(False)

    def loss(self, task, x, y, task_ids):
        loss = super().loss(task, x, y, task_ids)
        if self.teacher is None:
            return loss
        alpha, temperature = self.params["alpha"], self.params["temperature"]
        with torch.no_grad():
            old = self.trainer.old_outputs(self.teacher, x, task)
        new = self.trainer.old_outputs(self.net, x, task)
        kd = sum(distillation(s, t, temperature) for s, t in zip(new, old)) / max(len(old), 1)
        return loss + alpha * kd
