"""Training on several processes (GPUs, nodes) with torch.distributed, launched by ``torchrun``.

``torchrun --nproc_per_node=N -m modstudio train PROJECT`` starts N copies of the command; each
finds RANK/WORLD_SIZE/LOCAL_RANK in its environment (:func:`launch_env`), joins the process group
(:class:`Session`: NCCL on CUDA with device ``cuda:LOCAL_RANK``, gloo on the CPU) and trains the
same project with a :class:`DistributedTrainer`. That class overrides only the trainer's
distributed hooks; the loop, the strategies and the events are the single-process ones.

Choices, and why (docs/cluster.md says the same for users):

- **The batch size is global.** Every rank draws the same seeded permutation; batch ``b`` is the
  single-process batch ``b``, and rank r trains on its ``r::world_size`` slice. Each rank's loss
  is weighted by its share of the batch, so the averaged gradient is the single-process gradient
  (up to float summation order): the same settings give the same run on 1 or N processes.
- **Gradients are averaged by DistributedDataParallel**, re-wrapped at every ``fit`` around exactly
  the parameters being optimised (the trainable set changes per task, per expansion candidate,
  per probe). The wrapper's forward is the strategy's whole loss (several forward passes of the
  network per step: joint's per-task heads, replay, LwF), which DDP allows as long as there is one
  backward per forward; ``find_unused_parameters`` covers heads absent from a rank's shard.
- **Every step, one small all-reduce agrees** on the batch's mean loss (so a non-finite loss fails
  every rank at the same batch), on a stop request (Ctrl-C, SIGTERM) and on an exception in any
  rank's loss (whose message every rank then records).
- **Evaluation is sharded**: each rank scores a contiguous part of the split and correct/total
  counts are summed, so accuracies (and expansion's choices, made from them) are the same on every
  rank and equal to a single-process evaluation of the same weights.
- **Batch-norm running statistics** are averaged over ranks after every epoch (each rank's batch
  statistics come from its own slice; SyncBatchNorm is CUDA-only and not used).
- **After the run**, ranks report their outcome through the rendezvous store, not a collective, so
  a rank that failed alone cannot hang the others: it ends its process (after rank 0 saved, when
  it is rank 0), which makes the others' pending collective fail at once; rank 0 records which
  rank failed and why, saves, and tells the others they may exit. The process group's timeout
  (``MODSTUDIO_DIST_TIMEOUT``, seconds) is the last resort.
"""

from __future__ import annotations

import dataclasses
import gc
import hashlib
import json
import os
import time
import warnings
from dataclasses import dataclass
from datetime import timedelta
from typing import Any, Sequence

import torch
import torch.distributed as dist
from torch import nn
from torch.nn.parallel import DistributedDataParallel

from modstudio.learn.trainer import Trainer, TrainingError, _describe, _Stopped

TIMEOUT_ENV = "MODSTUDIO_DIST_TIMEOUT"
DEFAULT_TIMEOUT_S = 300.0
FAILED_WAIT_S = 5.0  # a failed rank waits this long for the others' reports before leaving the group
_KEY = "modstudio/train"

# DDP says this once per process when every parameter happened to be used; that is expected here.
warnings.filterwarnings("ignore", message=".*find_unused_parameters=True was specified.*")


class DistributedError(RuntimeError):
    """The launch environment or the process group cannot serve this run; the message is for the user."""


class DistributedFailure(TrainingError):
    """Another rank (or this one) failed at a point every rank agreed on."""


class PeerLost(TrainingError):
    """A collective failed: another rank left (failed or was killed) while this one waited."""


@dataclass(frozen=True)
class LaunchEnv:
    rank: int
    world_size: int
    local_rank: int


def launch_env(environ=None) -> LaunchEnv | None:
    """The torchrun environment of this process, or None when it was started on its own."""
    environ = os.environ if environ is None else environ
    names = ("RANK", "WORLD_SIZE", "LOCAL_RANK")
    if not all(name in environ for name in names):
        return None
    try:
        rank, world, local = (int(environ[name]) for name in names)
    except ValueError:
        raise DistributedError(
            "RANK, WORLD_SIZE and LOCAL_RANK must be whole numbers: "
            + ", ".join(f"{n}={environ[n]!r}" for n in names)) from None
    if world < 1 or not 0 <= rank < world or local < 0:
        raise DistributedError(f"inconsistent launch environment: RANK={rank}, WORLD_SIZE={world}, LOCAL_RANK={local}")
    return LaunchEnv(rank, world, local)


def _timeout_s(environ=None) -> float:
    environ = os.environ if environ is None else environ
    value = environ.get(TIMEOUT_ENV, "")
    if not value:
        return DEFAULT_TIMEOUT_S
    try:
        seconds = float(value)
    except ValueError:
        raise DistributedError(f"{TIMEOUT_ENV} must be a number of seconds, got {value!r}") from None
    if seconds <= 0:
        raise DistributedError(f"{TIMEOUT_ENV} must be positive, got {value!r}")
    return seconds


def choose_device(request: str, env: LaunchEnv) -> torch.device:
    """``auto``/``cuda``/``cuda:N`` → ``cuda:LOCAL_RANK`` when CUDA is there; ``cpu`` stays the CPU."""
    request = (request or "auto").strip()
    if request == "cpu":
        return torch.device("cpu")
    if request == "mps":
        raise DistributedError("training on several processes needs CUDA GPUs or the CPU, not mps")
    if request == "auto" or request.startswith("cuda"):
        if torch.cuda.is_available():
            count = torch.cuda.device_count()
            if env.local_rank >= count:
                raise DistributedError(
                    f"local rank {env.local_rank} has no GPU: this node has {count}; "
                    "start at most that many processes per node (--nproc_per_node)")
            return torch.device(f"cuda:{env.local_rank}")
        if request != "auto":
            raise DistributedError(f"device {request!r} is not available here: no CUDA GPU")
        return torch.device("cpu")
    raise DistributedError(f"unknown device {request!r}; use auto, cpu or cuda")


def start_session(device_request: str, environ=None) -> "Session | None":
    """Join the process group when launched by torchrun; None (single process) otherwise."""
    env = launch_env(environ)
    if env is None:
        return None
    session = Session(env, choose_device(device_request, env), _timeout_s(environ))
    session.start()
    return session


class Session:
    """This process's membership of the training group, from joining to the report after the run."""

    def __init__(self, env: LaunchEnv, device: torch.device, timeout_s: float = DEFAULT_TIMEOUT_S) -> None:
        self.env = env
        self.rank, self.world_size = env.rank, env.world_size
        self.device = device
        self.backend = "nccl" if device.type == "cuda" else "gloo"
        self.timeout_s = timeout_s
        self.store = None
        self.outcomes: dict[int, dict] = {}
        self.runs = 0  # runs in this group so far: every rank trains the same sequence of runs
        self.abandoned = False  # this rank failed alone: it ends its process in close()

    @property
    def is_main(self) -> bool:
        return self.rank == 0

    def start(self) -> None:
        if self.device.type == "cuda":
            torch.cuda.set_device(self.device)
        if not dist.is_initialized():
            try:
                dist.init_process_group(self.backend, rank=self.rank, world_size=self.world_size,
                                        timeout=timedelta(seconds=self.timeout_s))
            except Exception as exc:
                raise DistributedError(f"cannot join the process group ({self.backend}): {exc}") from exc
        self.store = dist.distributed_c10d._get_default_store()

    # ------------------------------------------------------------------ training

    def train(self, project, *, callbacks: Sequence = (), trainer_ready=None, **overrides: Any):
        """``modstudio.learn.api.train`` on this rank; rank 0's run then speaks for all ranks."""
        from modstudio.learn.api import TrainResult, run_summary, settings_with

        settings = settings_with(project, **overrides)
        self.runs += 1
        requested = settings.device
        settings = dataclasses.replace(settings, device=str(self.device))
        trainer = DistributedTrainer(project.graph, project.tasks, settings, callbacks, session=self)
        if trainer_ready is not None:
            trainer_ready(trainer)
        run = trainer.run()
        run.settings["device"] = requested  # what the user asked for, not this rank's GPU
        self._conclude(trainer, run)
        project.runs.append(run)
        return TrainResult(run, run_summary(run), trainer)

    def _conclude(self, trainer: "DistributedTrainer", run) -> None:
        """Every rank posts its outcome to the store; rank 0 folds the others' into its run."""
        mine = {"status": run.status, "message": run.message, "peer_lost": trainer.lost_peer(run),
                "digest": weights_digest(run.weights)}
        prefix = f"{_KEY}/{self.runs}/end"
        self.store.set(f"{prefix}/{self.rank}", json.dumps(mine))
        keys = [f"{prefix}/{r}" for r in range(self.world_size)]
        if run.status == "failed" and not self._wait(keys, FAILED_WAIT_S):
            # Failed alone while the others wait inside a collective. Only this process ending
            # releases them at once (its connections close; a destroyed group is not freed while
            # DDP's reducer lives): rank 0 first saves the run, in close(); the others go now.
            self.abandoned = True
            if not self.is_main:
                _exit_now(f"rank {self.rank} of {self.world_size} failed: {run.message}")
        else:
            self._wait(keys, self.timeout_s)
        self.outcomes = {r: json.loads(self.store.get(k)) for r, k in enumerate(keys) if self.store.check([k])}
        if self.is_main:
            merge_outcomes(run, self.outcomes, self.world_size, self.backend)

    def _wait(self, keys: list[str], seconds: float) -> bool:
        deadline = time.monotonic() + seconds
        while True:
            if self.store.check(keys):
                return True
            if time.monotonic() >= deadline:
                return False
            time.sleep(0.05)

    # ------------------------------------------------------------------ ending

    def leave(self) -> None:
        if dist.is_initialized():
            try:
                dist.destroy_process_group()
            except Exception:  # already broken: nothing left to release
                pass
            gc.collect()  # release what we can now (run objects hold DDP wrappers, which hold the group)

    def close(self) -> None:
        """Rank 0 (after saving): tell the others they may exit. Others: wait for that, bounded.
        A rank 0 that failed alone ends its process here, which releases the others."""
        if self.abandoned:
            _exit_now(f"rank {self.rank} of {self.world_size} failed; the other ranks stop now")
        key = f"{_KEY}/saved"
        if self.store is not None:
            try:
                if self.is_main:
                    self.store.set(key, "1")
                else:
                    self._wait([key], self.timeout_s)
            except Exception:  # the store went with rank 0 or the launcher: nothing to wait for
                pass
        self.leave()


def _exit_now(message: str) -> None:
    import sys

    print(f"modstudio: {message}", file=sys.stderr)
    sys.stdout.flush()
    sys.stderr.flush()
    os._exit(1)


def merge_outcomes(run, outcomes: dict[int, dict], world_size: int, backend: str) -> None:
    """Rank 0's run, told what the other ranks saw: the first rank that failed on its own is the cause."""
    failed = [(r, o) for r, o in sorted(outcomes.items()) if o["status"] == "failed"]
    causes = [(r, o) for r, o in failed if not o["peer_lost"]]
    missing = [r for r in range(world_size) if r not in outcomes]
    own = outcomes.get(0, {})
    if causes and (causes[0][0] != 0 or run.status != "failed"):
        rank, outcome = causes[0]
        if rank != 0:
            run.status = "failed"
            run.message = f"rank {rank} of {world_size} failed: {outcome['message']}"
    elif failed and own.get("peer_lost") and not causes:
        run.message = f"lost contact with another rank: {run.message}"
    if missing and not (run.status == "failed" and not own.get("peer_lost")):
        run.status = "failed"
        run.message = (run.message + "; " if run.message else "") + (
            f"rank(s) {', '.join(map(str, missing))} did not report back (killed, or past the "
            f"{TIMEOUT_ENV} timeout)")
    digests = {o.get("digest") for o in outcomes.values()}
    run.metrics.distributed = {
        "world_size": world_size, "backend": backend,
        "replicas_identical": len(digests) == 1 and not missing,
    }


def weights_digest(weights) -> str | None:
    """A hash of a run's weights, to check that every rank ends with the same model."""
    if not weights:
        return None
    digest = hashlib.sha256()
    for name in sorted(weights):
        digest.update(name.encode())
        digest.update(weights[name].tobytes())
    return digest.hexdigest()


class _Parameters(nn.Module):
    """What DDP wraps: exactly the parameters one ``fit`` optimises (the same objects, not copies);
    its forward runs the strategy's loss, which uses them through the network."""

    def __init__(self, params: list[nn.Parameter]) -> None:
        super().__init__()
        self.params = nn.ParameterList(params)

    def forward(self, loss_fn, *args):
        return loss_fn(*args)


class DistributedTrainer(Trainer):
    """The trainer on one rank: the single-process loop with the distributed hooks filled in."""

    def __init__(self, graph, tasks, settings=None, callbacks=(), *, session: Session) -> None:
        super().__init__(graph, tasks, settings, callbacks)
        self.session = session
        self.rank, self.world_size = session.rank, session.world_size
        self._ddp: DistributedDataParallel | None = None
        self._lost = False

    # ------------------------------------------------------------------ collectives

    def _collective(self, fn, *args, **kwargs):
        try:
            return fn(*args, **kwargs)
        except Exception as exc:
            self._lost = True
            raise PeerLost(f"lost contact with the other ranks ({type(exc).__name__}: {exc})") from exc

    def lost_peer(self, run) -> bool:
        """Whether this rank failed only because another one left."""
        if run.status != "failed":
            return False
        return self._lost or any(
            marker in run.message for marker in ("DistBackendError", "DistNetworkError", "Connection closed by peer",
                                                 "Connection reset by peer", "Timed out"))

    # ------------------------------------------------------------------ run

    def _prepare(self) -> None:
        super()._prepare()
        # Same project, same settings everywhere, or the replicas would silently drift apart.
        mine = project_digest(self.graph, self.tasks, self.settings)
        found = [None] * self.world_size
        self._collective(dist.all_gather_object, found, (mine, self.run_record.id))
        if len({d for d, _ in found}) > 1:
            differ = [r for r, (d, _) in enumerate(found) if d != found[0][0]]
            raise TrainingError(f"rank(s) {', '.join(map(str, differ))} loaded a different project or settings "
                                "than rank 0: give every rank the same project file and options")
        self.run_record.id = found[0][1]  # rank 0's run id on every rank

    def _checkpoint(self) -> None:
        """Pause here; a stop request is agreed with the other ranks in ``_batch_loss``."""
        if not self._resume.is_set():
            self._resume.wait()

    def _begin_fit(self, task, params, overrides) -> None:
        self._ddp = None  # the previous fit's wrapper (and its gradient hooks) goes first
        device_ids = [self.device.index] if self.device.type == "cuda" else None
        self._ddp = self._collective(
            DistributedDataParallel, _Parameters(params), device_ids=device_ids,
            find_unused_parameters=True,  # the wrapper holds no buffers: batch norm is averaged per epoch
        )
        self._fit_modules = self._trained_modules(task, overrides)

    def _trained_modules(self, task, overrides) -> list[nn.Module]:
        net = self.net
        modules = [m for m in net.modules_for(task, overrides) if m is not None]
        if net.shared_head is not None:
            modules.append(net.shared_head)
        return modules + net.laterals_of(task)

    def _batch_loss(self, task, x, y, ids, index, overrides) -> torch.Tensor:
        n = len(index)
        self.batch_global = n
        local = index[self.rank::self.world_size]
        count = len(local)
        if count == 0:  # fewer samples than ranks: run one with weight 0, so every rank reaches backward
            local = index[:1]
        error = None
        loss = None
        try:
            loss = self._ddp(self._loss, task, self._batch_inputs(task, x, ids, local), y[local],
                             None if ids is None else ids[local], overrides)
            contribution = loss.detach().double() * count
        except Exception as exc:  # told to every rank below, so none waits for this one
            error = exc
            contribution = torch.zeros((), dtype=torch.float64, device=self.device)
        agreed = torch.stack([
            contribution.to(self.device),
            torch.tensor(float(self._stop.is_set()), dtype=torch.float64, device=self.device),
            torch.tensor(float(error is not None), dtype=torch.float64, device=self.device),
        ])
        self._collective(dist.all_reduce, agreed)
        if agreed[2] > 0:
            messages = [None] * self.world_size
            self._collective(dist.all_gather_object, messages, None if error is None else _describe(error))
            rank, message = next((r, m) for r, m in enumerate(messages) if m is not None)
            raise DistributedFailure(f"rank {rank} of {self.world_size} failed: {message}") from error
        if agreed[1] > 0:
            raise _Stopped()
        mean = (agreed[0] / n).to(loss.dtype)
        scaled = loss * (count * self.world_size / n)  # DDP averages over ranks: this makes it the batch mean
        return scaled + (mean - scaled).detach()  # backward: this rank's part; value: the whole batch's

    def _end_epoch(self, task, overrides) -> None:
        """Average the running statistics (batch norm) of the modules being trained."""
        buffers = [b for module in self._fit_modules for sub in module.modules() if sub.training
                   for b in sub.buffers(recurse=False) if b.is_floating_point()]
        if buffers:
            self.all_reduce_sum_(buffers)
            for b in buffers:
                b.div_(self.world_size)

    def _end_fit(self) -> None:
        self._ddp = None

    def _eval_range(self, n: int) -> tuple[int, int]:
        per = -(-n // self.world_size)
        lo = min(self.rank * per, n)
        return lo, min(lo + per, n)

    def _reduce_counts(self, *counts: int) -> tuple[int, ...]:
        t = torch.tensor(counts, dtype=torch.int64, device=self.device)
        self._collective(dist.all_reduce, t)
        return tuple(int(v) for v in t.tolist())

    def share(self, items):
        return items[self.rank::self.world_size]

    def all_reduce_sum_(self, tensors) -> None:
        tensors = list(tensors)
        if not tensors:
            return
        flat = torch.cat([t.detach().reshape(-1) for t in tensors])
        self._collective(dist.all_reduce, flat)
        offset = 0
        for t in tensors:
            t.copy_(flat[offset:offset + t.numel()].view_as(t))
            offset += t.numel()


def project_digest(graph, tasks, settings) -> str:
    """What every rank must agree on before training: graph, task data and settings."""
    digest = hashlib.sha256()
    digest.update(json.dumps(graph.to_dict(), sort_keys=True, default=str).encode())
    for task in tasks:
        digest.update(task.name.encode())
        digest.update(task.fingerprint.encode())
    agreed = {k: v for k, v in dataclasses.asdict(settings).items() if k != "device"}  # cuda:LOCAL_RANK differs
    digest.update(json.dumps(agreed, sort_keys=True, default=str).encode())
    return digest.hexdigest()
