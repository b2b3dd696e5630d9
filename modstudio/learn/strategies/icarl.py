"""iCaRL (Rebuffi et al. 2017): representation learning on the new task's data and the exemplars,
with a sigmoid (binary cross-entropy) loss whose targets for the earlier classes are what the
network answered before the task (distillation); exemplars chosen by herding; and, class-
incremental, classification by the nearest mean of exemplars.

The nearest-mean classifier is a linear readout: with L2-normalised features f̂ and class means μ_y
(means of normalised exemplar features, normalised again, as the paper's code does),
argmin_y ‖f̂ − μ_y‖ = argmax_y μ_y · f, so it is the network's unified classifier
(``learn/readouts.FeatureClassifier``) with the means as its weights and no bias: it is saved,
restored and exported like DER's, and the trainer predicts through it. Its means are those of the
current training data's classes after each epoch (the live curves), and of the exemplars after
the task. In the task scenario each task keeps its own head: exemplars are rehearsed through their
own heads and the earlier heads' sigmoid outputs on the new data are distilled.
"""

from __future__ import annotations

import copy

import torch
import torch.nn.functional as F

from modstudio.learn.memory import FEATURE_BATCH, new_memory, remember
from modstudio.learn.strategies import implements
from modstudio.learn.strategies.base import Strategy, TrainSet


@implements("icarl")
class ICaRL(Strategy):
    def bind(self, ctx) -> None:
        super().bind(ctx)
        self.memory = new_memory(self)
        self.teacher = None
        self.seen = torch.zeros(0, dtype=torch.long)  # class indices seen so far, earlier tasks' first
        self.n_old = 0  # how many of them the teacher knows
        if ctx.class_incremental:
            self.net.enable_unified(ctx.n_classes)
            self.net.sync_unified()
            for p in self.net.unified.parameters():
                p.requires_grad_(False)  # set from class means, never trained

    def begin_task(self, task: int) -> None:
        super().begin_task(task)
        ctx = self.ctx
        self.teacher = None
        if task > 0:
            self.teacher = copy.deepcopy(self.net).eval()
            for p in self.teacher.parameters():
                p.requires_grad_(False)
        if ctx.class_incremental:
            old = self.seen.to(ctx.data(task).union_labels.device)
            new = ctx.data(task).union_labels
            self.n_old = len(old)
            self.seen = torch.cat([old, new[~torch.isin(new, old)]])
            self.position = torch.full((ctx.n_classes,), -1, dtype=torch.long, device=new.device)
            self.position[self.seen] = torch.arange(len(self.seen), device=new.device)

    def train_set(self, task: int) -> TrainSet:
        """The task's training data and every exemplar kept so far."""
        ctx = self.ctx
        data = ctx.data(task)
        x, y = data.train_x, ctx.labels(task, data.train_y)
        ids = torch.full_like(data.train_y, task)
        if not len(self.memory):
            return x, y, ids
        mx, my, mt = self.memory.gather(ctx)
        return torch.cat([x, mx]), torch.cat([y, my]), torch.cat([ids, mt])

    def loss(self, task, x, y, task_ids):
        if self.ctx.class_incremental:
            return self._class_loss(task, x, y)
        loss = self.ctx.loss(task, x, y, task_ids)
        if self.teacher is None:
            return loss
        new = x if task_ids is None else x[task_ids == task]
        if not len(new):  # a batch of exemplars only: nothing new to distil on
            return loss
        with torch.no_grad():
            targets = [torch.sigmoid(self.teacher.features_and_logits(new, t)) for t in range(task)]
        kd = sum(F.binary_cross_entropy_with_logits(self.net.features_and_logits(new, t), target)
                 for t, target in enumerate(targets))
        return loss + kd / task

    def _class_loss(self, task, x, y):
        """Binary cross-entropy over the classes seen so far: one-hot for the labels, the teacher's
        sigmoid outputs for the earlier classes."""
        logits = self.net.features_and_logits(x, task)[:, self.seen]
        targets = F.one_hot(self.position[y], len(self.seen)).to(logits.dtype)
        if self.teacher is not None and self.n_old:
            with torch.no_grad():
                old = self.teacher.features_and_logits(x, task)[:, self.seen[:self.n_old]]
            targets[:, :self.n_old] = torch.sigmoid(old)
        return F.binary_cross_entropy_with_logits(logits, targets)

    def end_epoch(self, task: int) -> None:
        """The nearest-mean classifier for the epoch's evaluation: earlier classes' exemplar means,
        this task's classes' training-data means (its exemplars are chosen at the task's end)."""
        if self.ctx.class_incremental:
            data = self.ctx.data(task)
            self._set_means([*self._exemplars(), (data.train_x, self.ctx.labels(task, data.train_y))])

    def end_task(self, task: int) -> None:
        remember(self, self.memory, task)
        if self.ctx.class_incremental:
            self._set_means(self._exemplars())

    def _exemplars(self) -> list[tuple[torch.Tensor, torch.Tensor]]:
        """The memory as (inputs, class indices over every task): its training labels, class scenario."""
        if not len(self.memory):
            return []
        x, y, _ = self.memory.gather(self.ctx)
        return [(x, y)]

    @torch.no_grad()
    def _set_means(self, batches) -> None:
        """Set the unified classifier's weights to the normalised class means of the normalised
        features in ``batches`` ((inputs, class indices) pairs), for every class they hold."""
        net = self.net
        was_training = net.training
        net.eval()
        width, classes = net.unified.feature_width, net.unified.outputs
        sums = torch.zeros(classes, width, device=net.unified.bias.device)
        counts = torch.zeros(classes, device=sums.device)
        for x, labels in batches:
            for start in range(0, len(x), FEATURE_BATCH):
                features = F.normalize(net.head_inputs(x[start:start + FEATURE_BATCH], [0])[0].flatten(1), dim=1)
                sums.index_add_(0, labels[start:start + FEATURE_BATCH], features)
                counts.index_add_(0, labels[start:start + FEATURE_BATCH], torch.ones(len(features), device=sums.device))
        net.train(was_training)
        present = counts > 0
        means = F.normalize(sums[present] / counts[present, None], dim=1)
        net.sync_unified()
        weight = net.unified.blocks[0].weight
        weight[present] = means
        net.unified.bias.zero_()
        net.unified.activate(torch.nonzero(present).flatten())
        self.ctx.answers_changed()
