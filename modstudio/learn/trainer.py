"""The training loop: tasks → epochs → batches, with a stop/pause flag checked every batch.

Qt-free and synchronous: the GUI runs it in a worker thread, the CLI in the main thread. It talks
to the outside only through event objects passed to callbacks, and keeps every result so far
when a run stops or fails.
"""

from __future__ import annotations

import contextlib
import math
import threading
import time
import traceback
import warnings
from dataclasses import dataclass
from typing import Any, Callable, Sequence

import torch
import torch.nn.functional as F

from modstudio.data import union_classes
from modstudio.learn import events as ev
from modstudio.learn.chunks import eval_step
from modstudio.learn.context import TaskContext
from modstudio.learn.device import resolve_device
from modstudio.learn.early_stopping import EarlyStopper
from modstudio.learn.inputs import DeviceValues
from modstudio.learn.network import ModularNetwork
from modstudio.learn.optim import OPTIMIZERS, new_optimizer, new_schedule
from modstudio.learn.readouts import AutoencoderGate, FeatureClassifier
from modstudio.learn.recorder import RunRecorder
from modstudio.learn.strategies import make_strategy
from modstudio.learn.streaming import HostStream, host_tensor, keep_on_host, streaming_refusal
from modstudio.project.mapping import check_mapped
from modstudio.project.run import Run, now_iso
from modstudio.project.settings import SCENARIOS, SETTING_SPECS, SettingsError, TrainingSettings, check_setting

Callback = Callable[[ev.Event], None]

PROGRESS_INTERVAL_S = 0.25
VALIDATION_CARVE = 0.1  # of a task's training data, when the strategy needs validation and it has none


MODE_DEPENDENT = (torch.nn.modules.batchnorm._BatchNorm, torch.nn.modules.dropout._DropoutNd)


class TrainingError(RuntimeError):
    """A run that cannot go on (non-finite loss, bad settings); its message is for the user."""


class _Stopped(Exception):
    pass


@dataclass
class TaskTensors:
    """One task's splits on the training device, labels task-local."""

    train_x: torch.Tensor
    train_y: torch.Tensor
    val_x: torch.Tensor
    val_y: torch.Tensor
    test_x: torch.Tensor
    test_y: torch.Tensor
    union_labels: torch.Tensor  # local label → index in the union of all tasks' classes


class Trainer:
    """Trains one strategy over a task sequence. ``stop()``, ``pause()``, ``resume()`` are thread-safe."""

    def __init__(self, graph, tasks: Sequence[Any], settings: TrainingSettings | None = None,
                 callbacks: Sequence[Callback] = ()) -> None:
        self.graph = graph
        self.tasks = list(tasks)
        self.settings = settings or TrainingSettings()
        self.recorder = RunRecorder(graph, self.settings)
        self.callbacks = [self.recorder, *callbacks]  # the record first: callbacks see it up to date
        self._stop = threading.Event()
        self._resume = threading.Event()
        self._resume.set()
        self.net: ModularNetwork | None = None
        self._last_progress = 0.0
        self._samples = 0
        self._paused_s = 0.0  # time spent paused: not training, so not in samples/s or the ETA

    # ------------------------------------------------------------------ control

    def stop(self) -> None:
        self._stop.set()
        self._resume.set()

    def pause(self) -> None:
        self._resume.clear()

    def resume(self) -> None:
        self._resume.set()

    @property
    def paused(self) -> bool:
        return not self._resume.is_set()

    @property
    def run_record(self) -> Run:
        return self.recorder.run

    def emit(self, event: ev.Event) -> None:
        for callback in self.callbacks:
            callback(event)

    def _checkpoint(self) -> None:
        """Called every batch: honour pause and stop."""
        if not self._resume.is_set():
            paused_at = time.monotonic()
            self._resume.wait()
            self._paused_s += time.monotonic() - paused_at
        if self._stop.is_set():
            raise _Stopped()

    # ------------------------------------------------------------------ the run

    def run(self) -> Run:
        """Train every task; returns the run record (finished, stopped or failed), never raises.

        A KeyboardInterrupt (Ctrl-C in a script or notebook) ends the run as stopped, like ``stop()``,
        and sets ``self.interrupted`` (``ms.train`` re-raises it once the run is in the project).
        ``RunFinished`` reaches every callback even if one raises; a callback that raises on it makes
        a finished run failed, saying which and why. Either way the record, which the recorder (the
        first callback) has closed, is returned with its history.
        """
        record = self.run_record
        self.interrupted = False
        status, message, details = "finished", "", ""
        try:
            self._prepare()
            self.emit(ev.RunStarted(record.id, self.settings.strategy, len(self.tasks), str(self.device),
                                    self.settings.to_dict(), record.started, [len(d.test_y) for d in self.data]))
            for carved in self.carved:
                if carved is not None:
                    self.emit(carved)
            self.emit(ev.Evaluated(-1, -1, self.evaluate_all()))
            self._started = time.monotonic()
            for task in range(len(self.tasks)):
                self._train_task(task)
        except _Stopped:
            status, message = "stopped", "stopped by the user"
        except KeyboardInterrupt:
            self.interrupted = True
            status, message = "stopped", "interrupted (KeyboardInterrupt)"
        except Exception as exc:  # a failed run keeps its history and tells the user why
            status, message, details = "failed", _describe(exc), traceback.format_exc()
        net = self.net
        if net is not None:
            record.weights = net.weights()
        finished = ev.RunFinished(status, message, details, net.bank_sizes() if net is not None else {},
                                  net.parameter_count() if net is not None else None, now_iso())
        failures = []
        for callback in self.callbacks:  # the last event reaches the record and every listener
            try:
                callback(finished)
            except KeyboardInterrupt:
                self.interrupted = True
            except Exception as exc:
                name = getattr(callback, "__qualname__", None) or type(callback).__qualname__
                failures.append((f"{name}: {_describe(exc)}", traceback.format_exc()))
        if failures:
            text = f"a callback failed on RunFinished ({'; '.join(why for why, _ in failures)})"
            trace = "\n".join(tb for _, tb in failures)
            if status == "finished" or not self.recorder.finished:  # (not finished: the recorder failed)
                self.recorder.end("failed", text, trace, finished.ended)
            else:
                self.recorder.end(status, f"{message}; then {text}", f"{details}\n{trace}", finished.ended)
        return record

    def _prepare(self) -> None:
        s = self.settings
        if not self.tasks:
            raise TrainingError("the project has no tasks: add a dataset as tasks first")
        if s.scenario not in SCENARIOS:
            raise TrainingError(f"unknown scenario {s.scenario!r}; use task or class")
        if s.optimizer not in OPTIMIZERS:
            raise TrainingError(f"unknown optimizer {s.optimizer!r}; use {', '.join(OPTIMIZERS)}")
        if s.epochs < 1 or s.batch_size < 1:
            raise TrainingError("epochs and batch size must be at least 1")
        for name, spec in SETTING_SPECS.items():  # settings built without replace() were never checked:
            if spec.type in ("choice", "int", "bool"):  # a name or a count the loop would misread
                try:
                    check_setting(name, getattr(s, name))
                except SettingsError as exc:
                    raise TrainingError(str(exc)) from None
        shapes = {tuple(t.sample_shape) for t in self.tasks}
        if len(shapes) > 1:
            raise TrainingError(f"all tasks need the same sample shape, found {sorted(shapes)}")
        self.strategy = make_strategy(s.strategy, **s.strategy_params)
        self.device = resolve_device(s.device)
        torch.manual_seed(s.seed)
        self.generator = torch.Generator(device="cpu").manual_seed(s.seed)
        union = union_classes(self.tasks)
        self.union_classes = union
        self.class_incremental = s.scenario == "class"
        shared_head = len(union) if self.class_incremental and not self.strategy.spec.path_based else None
        self.net = ModularNetwork(self.graph, shapes.pop(), [t.num_classes for t in self.tasks], shared_head)
        self.net.to(self.device)
        for task in range(len(self.tasks)):
            self.net.add_head(task)
        self.values = self._stored_values()
        self.net.input_values = None if self.values is None else DeviceValues(self.values, self.device)
        self.data = [self._to_device(t) for t in self.tasks]
        self._check_streamed()  # before a split is carved from training data, and before anything trains
        self.carved = [self._carve_validation(task) for task in range(len(self.tasks))] \
            if self.strategy.spec.validation else []
        self._class_task = torch.zeros(len(union), dtype=torch.long, device=self.device)
        for t in reversed(range(len(self.tasks))):  # a class in several tasks names the first
            self._class_task[self.data[t].union_labels] = t
        # The network as initialised: instance 0 of every node. The row "before training" is
        # measured on it, and the first task starts training from exactly these weights.
        self.net.set_path(0, {})
        # Train/eval switching walks every module; skip it for networks without dropout or
        # batch norm, where the two modes compute the same thing (every instance has the
        # graph's kinds, so the first path tells).
        self._modes_matter = any(isinstance(m, MODE_DEPENDENT) for m in self.net.modules())
        self.current_task = -1
        self.task_inference: dict[int, float] = {}
        self._carried: torch.optim.Optimizer | None = None  # the last training phase's (reset_optimizer off)
        self.strategy.bind(TaskContext(self))
        # torch imports its compiler stack on the first optimiser (seconds): pay that here, not
        # inside the first task's time and samples/s.
        OPTIMIZERS[s.optimizer]([torch.zeros(1, requires_grad=True)], lr=s.lr)

    def _stored_values(self):
        """The one mapping of every task's bytes, kept as bytes on the device and mapped per batch
        by the network (``learn/inputs.py``); None (every task as float32) when the tasks hold
        floats, or bytes under different mappings."""
        values = {t.values for t in self.tasks}
        return values.pop() if len(values) == 1 else None

    def _to_device(self, task) -> TaskTensors:
        # Data mapped from the project file: refused if the file changed or a CRC fails (checked
        # once, in the background since loading), and kept on the host where it is streamed
        # (learn/streaming.py: on the CPU the map itself, no copy; on a GPU when it would not fit).
        check_mapped(task.arrays().values())

        def tensor(a, dtype):
            return torch.tensor(a, dtype=dtype, device=self.device)  # a copy: task arrays are read-only

        def samples(split):
            if (self.values is not None or split.values is None) and keep_on_host(split.x, self.device):
                return host_tensor(split.x)
            if self.values is None:
                return tensor(split.floats(), torch.float32)  # one split's floats at a time
            # Bytes are only ever read (each batch is mapped to new floats before any module sees
            # it), so on the CPU the task's own array serves, without a copy; elsewhere one copy.
            with warnings.catch_warnings():
                warnings.filterwarnings("ignore", "The given NumPy array is not writable")
                return torch.from_numpy(split.x).to(self.device)

        index = {c: i for i, c in enumerate(self.union_classes)}
        return TaskTensors(
            samples(task.train), tensor(task.train.y, torch.long),
            samples(task.val), tensor(task.val.y, torch.long),
            samples(task.test), tensor(task.test.y, torch.long),
            tensor([index[c] for c in task.classes], torch.long),
        )

    def _check_streamed(self) -> None:
        """Refuse a run whose strategy would copy a training split kept on the host whole (it joins
        the split with other samples, or carves validation from it: ``streaming_refusal``)."""
        s, spec = self.settings, self.strategy.spec
        for task, (t, data) in enumerate(zip(self.tasks, self.data)):
            streamed = {name: x.nelement() * x.element_size() for name, x in
                        (("train", data.train_x), ("val", data.val_x), ("test", data.test_x)) if self._on_host(x)}
            if streamed:
                problem = streaming_refusal(spec, s.scenario, s.strategy_params, streamed, bool(len(data.val_y)),
                                            task=f"task {task + 1} ({t.name})", free=self._device_free())
                if problem:
                    raise TrainingError(problem)

    def _on_host(self, x: torch.Tensor) -> bool:
        """Whether split ``x`` stays on the host while training runs on another device (streamed)."""
        return x.device.type == "cpu" and self.device.type != "cpu"

    def _device_free(self) -> int | None:
        """The training device's free memory in bytes (a GPU's), or None where it is not known."""
        return torch.cuda.mem_get_info(self.device)[0] if self.device.type == "cuda" else None

    def _carve_validation(self, task: int) -> ev.ValidationCarved | None:
        """Give a task without validation data a stratified, seeded tenth of its training split
        (never one streamed from the host: ``_check_streamed`` refused that run)."""
        data = self.data[task]
        if len(data.val_y):
            return None
        n = len(data.train_y)
        if n < 2:
            raise TrainingError(f"task {task + 1} ({self.tasks[task].name}) has no validation split and too "
                                f"few training samples ({n}) to carve one; {self.settings.strategy} selects on "
                                "validation: add a validation split to the task")
        generator = torch.Generator().manual_seed(self.settings.seed * 7919 + task)
        labels = data.train_y.cpu()
        val = []
        for label in torch.unique(labels).tolist():
            members = torch.nonzero(labels == label).flatten()
            members = members[torch.randperm(len(members), generator=generator)]
            val.append(members[:int(round(len(members) * VALIDATION_CARVE))])
        val = torch.cat(val)
        if not len(val):  # every class too small for a tenth: one sample still validates
            val = torch.randperm(n, generator=generator)[:1]
        keep = torch.ones(n, dtype=torch.bool)
        keep[val] = False
        val, keep = val.to(self.device), keep.to(self.device)
        data.val_x, data.val_y = data.train_x[val], data.train_y[val]
        data.train_x, data.train_y = data.train_x[keep], data.train_y[keep]
        return ev.ValidationCarved(task, len(val), int(keep.sum()))

    def _train_task(self, task: int) -> None:
        started = time.monotonic()
        self.current_task = task
        self._epochs_done = 0
        self._fresh_accuracies = None
        self.emit(ev.TaskStarted(task, self.tasks[task].name, len(self.data[task].train_x)))
        self.strategy.begin_task(task)
        self.strategy.fit_task(task)
        self.strategy.end_task(task)
        # The last epoch's evaluation stands when no weight changed since (end_task only freezes;
        # a strategy that changes answers there says so: ctx.answers_changed).
        accuracies = self._fresh_accuracies if self._fresh_accuracies is not None else self.evaluate_all()
        # class-incremental, path per task: how often the right path was chosen
        inference = [self.task_inference[t] for t in range(task + 1)] if self.task_inference else None
        net = self.net
        self.emit(ev.TaskEnded(task, accuracies, net.parameter_count(), time.monotonic() - started,
                               dict(net.paths[task]), net.task_parameter_count(task), inference))

    # ------------------------------------------------------------------ fitting

    def fit(self, task: int, epochs: int, overrides=None, phase: str = "train") -> None:
        """Train ``task`` for ``epochs`` on the strategy's data and loss.

        A training phase (``phase`` "train") follows the run's settings: the learning-rate schedule
        over its epochs, early stopping, the optimiser state carried from the last training phase
        (``reset_optimizer`` off), an evaluation after each epoch (``evaluate`` "epoch"). A search
        trial (expansion's candidates and probes) trains at the constant rate with a fresh optimiser."""
        if epochs <= 0:
            return
        x, y, ids = self.strategy.train_set(task)
        params = self.net.path_parameters(task, overrides)
        if not overrides:
            params += self.strategy.extra_parameters(task)
        if not params:
            return
        s = self.settings
        training = phase == "train"
        optimizer = new_optimizer(s, params, self._carried if training else None)
        schedule = new_schedule(s, optimizer, epochs) if training else None
        stopping = self._early_stopping(task, params) if training else None
        n = len(x)
        batch = min(s.batch_size, n)
        n_batches = (n + batch - 1) // batch
        stepping = not overrides  # the strategy's step hooks: for its own paths, not a search's candidates
        for module in (overrides or {}).values():
            module.train()
        self.net.train()
        self._begin_fit(task, params, overrides)
        for epoch in range(epochs):
            lr = optimizer.param_groups[0]["lr"]
            order = torch.randperm(n, generator=self.generator).to(self.device)
            total = 0.0
            summed = torch.zeros((), dtype=torch.float64, device=self.device) if not self.sync_each_batch else None
            self._fresh_accuracies = None  # the weights are about to change
            for b in range(n_batches):
                self._checkpoint()
                index = order[b * batch:(b + 1) * batch]
                loss = self._batch_loss(task, x, y, ids, index, overrides)
                if summed is None:
                    value = loss.item()  # a float check is 25× cheaper than torch.isfinite, and syncs no more
                    self._check_finite(value, task, epoch, f"batch {b + 1}")
                    total += value * len(index)
                else:  # no host synchronisation per batch: the sum stays on the device, read when shown
                    summed += loss.detach().double() * len(index)
                    value = None
                    if self._progress_due():
                        value = loss.item()
                        self._check_finite(value, task, epoch, f"batch {b + 1}")
                optimizer.zero_grad(set_to_none=True)
                loss.backward()
                if stepping:
                    self.strategy.before_step(task, params)
                optimizer.step()
                if stepping:
                    self.strategy.after_step(task, params)
                self._samples += len(index)
                if value is not None:
                    self._maybe_progress(task, epoch, epochs, (b + 1) / n_batches, value, phase)
            if summed is not None:
                total = summed.item()
                self._check_finite(total, task, epoch, "a batch of the epoch (read at its end)")
            self._end_epoch(task, overrides)
            if stepping:
                self.strategy.end_epoch(task)
            self._epochs_done += 1
            if schedule is not None:
                schedule.step()
            if training:
                accuracies = self._fresh_accuracies = self.evaluate_all() if s.evaluate == "epoch" else None
                stop = stopping is not None and stopping.update(epoch, self._validation_accuracy(task))
                self.emit(ev.EpochEnded(task, epoch, total / n, accuracies or [], self._fraction(task, 0.0), lr))
                if stop:
                    break
        if training and not s.reset_optimizer:
            self._carried = optimizer
        if stopping is not None:
            if stopping.restore_best():
                self._fresh_accuracies = None  # the best epoch's weights, not the last one's
            self.emit(ev.EarlyStopping(task, epoch + 1, epochs, stopping.best_epoch, stopping.best,
                                       stopping.patience))
        self._end_fit()

    def _early_stopping(self, task: int, params) -> EarlyStopper | None:
        """The early stopping of a training phase of ``task``, or None: off, or (said in an event)
        no validation data to judge by."""
        patience = self.settings.early_stopping_patience
        if patience <= 0:
            return None
        if not len(self.data[task].val_y):
            self.emit(ev.EarlyStoppingSkipped(task, "its validation split is empty"))
            return None
        owned = {id(p) for p in params}
        owners = [m for m in self.net.modules() if any(id(p) in owned for p in m.parameters(recurse=False))]
        return EarlyStopper(patience, [*params, *(b for m in owners for b in m.buffers(recurse=False))])

    def _validation_accuracy(self, task: int) -> float:
        """The current task's validation accuracy, as its training improves it: in the run's scenario,
        except where a router trained after the task picks the path: then through the task's own head."""
        net = self.net
        routed = self.class_incremental and net.shared_head is None and net.unified is None
        return self.accuracy(task, "val", local=routed)

    def optimize(self, task: int, params, tensors, loss_fn, epochs: int, phase: str, seed: int) -> None:
        """Train ``params`` on ``loss_fn(*batch)`` over ``tensors`` (indexed together) for ``epochs``:
        a readout (classifier, router) beside the path. Stop, pause and the loss check as in ``fit``;
        its own seeded order, so the path's batches do not depend on whether it ran. Every process
        of a distributed run computes the same, so replicas stay identical."""
        params = [p for p in params if p.requires_grad]
        n = len(tensors[0])
        if epochs <= 0 or not params or not n:
            return
        s = self.settings
        optimizer = new_optimizer(s, params)  # a readout's own, fresh: never carried, never scheduled
        generator = torch.Generator(device="cpu").manual_seed(seed)
        batch = min(s.batch_size, n)
        n_batches = (n + batch - 1) // batch
        self._fresh_accuracies = None
        for epoch in range(epochs):
            order = torch.randperm(n, generator=generator).to(self.device)
            for b in range(n_batches):
                self._checkpoint()
                index = order[b * batch:(b + 1) * batch]
                loss = loss_fn(*(self.net.inputs(self._fetch(t, index)) for t in tensors))  # bytes: their features
                value = loss.item()
                if not math.isfinite(value):
                    raise TrainingError(f"the loss became {value} in task {task + 1} ({phase}), epoch {epoch + 1}: "
                                        "lower the learning rate or check the data")
                optimizer.zero_grad(set_to_none=True)
                loss.backward()
                optimizer.step()
                self._maybe_progress(task, epoch, epochs, (b + 1) / n_batches, value, phase)
            self._epochs_done += 1

    # ------------------------------------------------------------------ hooks for several processes
    # One process: the no-ops below. Under torchrun, modstudio.learn.distributed.DistributedTrainer
    # overrides them (and only them) to shard batches and evaluation and to reduce across ranks.

    rank, world_size = 0, 1
    batch_global = 0  # samples in the current batch over all processes

    def _begin_fit(self, task, params, overrides) -> None:
        """Before the first batch of a ``fit`` (the set of trainable parameters is known here)."""

    def _batch_loss(self, task, x, y, ids, index, overrides) -> torch.Tensor:
        """The loss to back-propagate for the batch ``index``; its value is the whole batch's mean loss."""
        self.batch_global = len(index)
        return self._loss(task, self._batch_inputs(task, x, ids, index), y[index],
                          None if ids is None else ids[index], overrides)

    def _batch_inputs(self, task, x, ids, index) -> torch.Tensor:
        """A training batch's inputs on the device: fetched (``_fetch``), then augmented (``_augment``)."""
        return self._augment(task, self._fetch(x, index), None if ids is None else ids[index])

    def _fetch(self, x, index) -> torch.Tensor:
        """The rows ``index`` of a training split on the device: indexed where it is there, else
        gathered on the host and streamed with the next batch prefetched (``learn/streaming.py``)."""
        if x.device.type == index.device.type:
            return x[index]
        return self._host_stream().batch(x, index)

    def _chunk(self, x, start: int, stop: int) -> torch.Tensor:
        """Rows ``start:stop`` of an evaluated split on the device (streamed when kept on the host)."""
        if self._on_host(x):
            return self._host_stream().rows(x, start, stop)
        return x[start:stop]

    def _host_stream(self) -> HostStream:
        stream = getattr(self, "_stream", None)
        if stream is None:
            stream = self._stream = HostStream(self.device)
        return stream

    def _augment(self, task, batch: torch.Tensor, ids) -> torch.Tensor:
        """The batch as the model trains on it: each sample's task's augmentation (``learn/augment.py``),
        drawn from the run's own seeded device generator; the batch itself when no task has one."""
        augmenter = self.__dict__.get("_augmenter")
        if augmenter is None:  # one per run (a Trainer runs once), made on the device at the first batch
            from modstudio.learn.augment import Augmenter

            augmenter = self._augmenter = Augmenter([t.augmentation for t in self.tasks], self.device,
                                                    self.settings.seed, self.rank)
        return augmenter(task, batch, ids)

    def _end_epoch(self, task, overrides) -> None:
        """After an epoch's last batch, before its evaluation."""

    def _end_fit(self) -> None:
        """After a ``fit``'s last epoch."""

    def _eval_range(self, n: int) -> tuple[int, int]:
        """The part of an evaluation split this process scores."""
        return 0, n

    def _reduce_counts(self, *counts: int) -> tuple[int, ...]:
        """Counts summed over processes."""
        return counts

    def share(self, items):
        """This process's part of something every process drew identically (replay picks)."""
        return items

    def all_reduce_sum_(self, tensors) -> None:
        """Sum tensors in place over processes (EWC's Fisher)."""

    def _loss(self, task, x, y, ids, overrides):
        if overrides:
            return self.classification_loss(task, x, y, ids, overrides)
        return self.strategy.loss(task, x, y, ids)

    def classification_loss(self, task, x, y, task_ids=None, overrides=None) -> torch.Tensor:
        """Cross-entropy through each sample's own task head (or the shared head, class-incremental)."""
        if task_ids is None or self.net.shared_head is not None:
            return F.cross_entropy(self.net.features_and_logits(x, task, overrides), y)
        total = x.new_zeros(())
        for t in torch.unique(task_ids).tolist():
            mask = task_ids == t
            total = total + F.cross_entropy(self.net.features_and_logits(x[mask], t), y[mask], reduction="sum")
        return total / len(x)

    def train_labels(self, task: int, local: torch.Tensor) -> torch.Tensor:
        """Local labels, or union labels when one shared head covers every class (class-incremental)."""
        return self.data[task].union_labels[local] if self.net.shared_head is not None else local

    def _fraction(self, task: int, within: float) -> float:
        """Share of the whole run done: epochs done in this task (searches included) over the
        epochs the strategy plans for it, so the bar only moves forward."""
        planned = max(self.strategy.planned_epochs(task), 1)
        return (task + min((self._epochs_done + within) / planned, 1.0)) / len(self.tasks)

    @property
    def sync_each_batch(self) -> bool:
        """Read each batch's loss on the host (a cheap check on a CPU); on a GPU the losses are summed
        on the device and read once per progress interval and epoch, so no batch waits for the host."""
        return self.device.type != "cuda"

    def _check_finite(self, value: float, task: int, epoch: int, where: str) -> None:
        if not math.isfinite(value):
            raise TrainingError(f"the loss became {value} in task {task + 1}, epoch {epoch + 1}, {where}: "
                                "lower the learning rate or check the data")

    def _progress_due(self) -> bool:
        return time.monotonic() - self._last_progress >= PROGRESS_INTERVAL_S

    def _maybe_progress(self, task, epoch, epochs, within, loss: float, phase) -> None:
        now = time.monotonic()
        if now - self._last_progress < PROGRESS_INTERVAL_S:
            return
        self._last_progress = now
        fraction = self._fraction(task, within)
        elapsed = max(now - self._started - self._paused_s, 1e-9)
        rate = self._samples / elapsed
        eta = elapsed * (1 - fraction) / fraction if fraction > 0 else None
        self.emit(ev.Progress(task, epoch, epochs, fraction, rate, eta, loss, phase))

    # ------------------------------------------------------------------ evaluation

    @contextlib.contextmanager
    def _evaluating(self, overrides=None):
        """Eval mode for the network (and candidate modules) inside, the previous mode after.
        Switching walks every module, so it is done once per evaluation, not once per task."""
        modules = [self.net, *(overrides or {}).values()] if self._modes_matter else []
        modes = [m.training for m in modules]
        for module, mode in zip(modules, modes):
            if mode:
                module.eval()
        try:
            with torch.no_grad():
                yield
        finally:
            for module, mode in zip(modules, modes):
                if mode:
                    module.train()

    def evaluate_all(self) -> list[float]:
        """Test accuracy of every task (untrained ones too, for forward transfer)."""
        with self._evaluating():
            return [self._accuracy(j, "test", None) for j in range(len(self.tasks))]

    def accuracy(self, task: int, split: str = "test", overrides=None, local: bool = False) -> float:
        with self._evaluating(overrides):
            return self._accuracy(task, split, overrides, local)

    def _accuracy(self, task: int, split: str, overrides, local: bool = False) -> float:
        data = self.data[task]
        x, y = (data.val_x, data.val_y) if split == "val" else (data.test_x, data.test_y)
        correct = inferred = 0
        lo, hi = self._eval_range(len(x))
        step = eval_step(x)
        for start in range(lo, hi, step):
            xb, yb = self._chunk(x, start, min(start + step, hi)), y[start:min(start + step, hi)]
            predicted, chosen = self._predict(xb, task, overrides, local)
            correct += int((predicted == self._target(task, yb)).sum())
            if chosen is not None:
                inferred += int((chosen == task).sum())
        correct, inferred = self._reduce_counts(correct, inferred)
        if self.class_incremental and self.strategy.spec.path_based and split == "test" and not local:
            self.task_inference[task] = inferred / max(len(x), 1)
        return correct / max(len(x), 1)

    def _target(self, task: int, local: torch.Tensor) -> torch.Tensor:
        return self.data[task].union_labels[local] if self.class_incremental else local

    def _predict(self, x, task, overrides, local: bool = False) -> tuple[torch.Tensor, torch.Tensor | None]:
        """Predicted labels, and the task each sample was routed to when the task had to be inferred.

        ``local``: through ``task``'s own head, as if the task were given (expansion's search)."""
        net = self.net
        if not self.class_incremental or local:
            if task >= len(net.paths):
                return self._untrained_head_predict(x, task), None
            logits = net.features_and_logits(x, task, overrides)
            predicted = logits.argmax(1)
            return (self.data[task].union_labels[predicted] if local and self.class_incremental else predicted), None
        if net.shared_head is not None:  # one path, one head: the task id plays no part
            if net.unified is not None:  # iCaRL: the nearest mean of exemplars, over every class seen
                return net.unified_logits(x, 1, overrides, task).argmax(1), None
            return net.features_and_logits(x, min(task, len(net.paths) - 1), overrides).argmax(1), None
        known = min(max(self.current_task, 0) + 1, len(net.paths))
        if net.unified is not None:  # one classifier over every path's features (DER)
            predicted = net.unified_logits(x, known, overrides, task).argmax(1)
            return predicted, self._class_task[predicted]
        chosen = self._route(x, known, overrides, task)
        if chosen is None:
            return self._most_confident(x, known, task, overrides)
        predicted = torch.zeros_like(chosen)
        for t in range(known):
            mask = chosen == t
            if bool(mask.any()):
                logits = net.features_and_logits(x[mask], t, overrides if t == task else None)
                predicted[mask] = self.data[t].union_labels[logits.argmax(1)]
        return predicted, chosen

    def _route(self, x, known: int, overrides, task) -> torch.Tensor | None:
        """The task a learned router names for each sample, or None without a trained one."""
        router = self.net.router
        if isinstance(router, AutoencoderGate):
            experts = min(known, len(router.experts))
            return router.route(self.net.inputs(x), experts) if experts else None
        if isinstance(router, FeatureClassifier):
            sources = self.net.feature_sources(known)[:len(router.blocks)]
            if not sources:
                return None
            if not bool(router.active.any()):
                return None
            return router(self.net.head_inputs(x, sources, overrides, task)).argmax(1)
        return None

    def _most_confident(self, x, known: int, task, overrides):
        """The most confident head of the tasks met so far names the task (uncalibrated heads)."""
        net = self.net
        best_conf = best_pred = best_task = None
        for t in range(known):
            logits = net.features_and_logits(x, t, overrides if t == task else None)
            conf, pred = logits.softmax(1).max(1)
            pred = self.data[t].union_labels[pred]
            chosen = torch.full_like(pred, t)
            if best_conf is None:
                best_conf, best_pred, best_task = conf, pred, chosen
            else:
                better = conf > best_conf
                best_conf = torch.where(better, conf, best_conf)
                best_pred = torch.where(better, pred, best_pred)
                best_task = torch.where(better, chosen, best_task)
        return best_pred, best_task

    def _untrained_head_predict(self, x, task) -> torch.Tensor:
        """Forward transfer needs R[i-1][i]: the current network with task i's own (untrained) head."""
        net = self.net
        own_head = {net.head_id: net.instances(net.head_id)[task]}
        return net.features_and_logits(x, len(net.paths) - 1, own_head).argmax(1)


def _describe(exc: BaseException) -> str:
    if isinstance(exc, (TrainingError, ValueError)):
        return str(exc)
    return f"{type(exc).__name__}: {exc}"
