"""The training process the studio starts for each run: ``modstudio --training-host``.

Why a process and not a thread of the studio: a thread shares the studio's GIL, and the window's
Python (plots, log, canvas) then takes turns with the trainer's per-batch Python. Measured on the
2-core CI machine, training in a thread of the window ran at 0.51–0.65× the speed of the same run
headless; in its own process it has a core and a GIL of its own. A crash (a segfault in a kernel,
the out-of-memory killer) also ends only the run, never the studio with the user's unsaved work.

The process imports torch first (seconds), then serves runs one after another, so only the
studio's first run waits for that import. The protocol (the parent side is ``modstudio.learn.remote``):
- stdin: a job is one JSON line ``{"project": IN, "out": OUT, "threads": N}``, where IN is a
  self-contained project file (graph, tasks, settings) read with the usual validation, or
  ``{"devices": true}``, answered with ``{"devices": [{"name", "label"}, ...]}``; any other
  line is a command for the run going on: ``pause``, ``resume`` or ``stop``. End of file (the
  studio went away) stops the run and ends the process.
- stdout: one JSON object a line: ``{"event": ...}`` for every trainer event (the studio builds
  the run record from them, with the recorder the trainer uses), then ``{"done": true,
  "weights": W}`` once the trained weights are in ``OUT.safetensors`` (W: whether the run has
  any), or ``{"error": message}`` if the job could not be done (the process then waits for the
  next job, or ends if torch itself failed).
  Everything else this process prints goes to stderr, which the studio keeps for error reports.
"""

from __future__ import annotations

import json
import os
import queue
import sys
import threading
import traceback
from pathlib import Path

HOST_FLAG = "--training-host"
COMMANDS = ("pause", "resume", "stop")


def weights_path(out: str | Path) -> Path:
    """Where the trained weights go."""
    return Path(out).with_suffix(".safetensors")


class _Host:
    """Serves jobs one after another; a reader thread takes stdin's lines (jobs and commands).
    Listing the devices is a job too: the studio's process never initialises CUDA."""

    def __init__(self, channel) -> None:
        self.channel = channel
        self.send_lock = threading.Lock()
        self.trainer = None
        self.trainer_lock = threading.Lock()
        self.early: list[str] = []  # commands that came after a job, before its trainer existed
        self.jobs: queue.Queue[dict | None] = queue.Queue()

    def send(self, message: dict) -> None:
        line = json.dumps(message).encode("utf-8") + b"\n"
        with self.send_lock:
            self.channel.write(line)
            self.channel.flush()

    def read_stdin(self) -> None:
        for raw in sys.stdin.buffer:
            line = raw.strip()
            if line.startswith(b"{"):
                with self.trainer_lock:
                    self.early = []  # a late command for the previous run is not for this one
                try:
                    self.jobs.put(json.loads(line))
                except ValueError:
                    self.send({"error": f"could not read the job {line[:80]!r}"})
                continue
            command = line.decode("ascii", "replace")
            if command not in COMMANDS:
                continue
            with self.trainer_lock:
                if self.trainer is not None:
                    getattr(self.trainer, command)()
                else:
                    self.early.append(command)
        with self.trainer_lock:  # the studio closed its end: nobody is left to see a run
            if self.trainer is not None:
                self.trainer.stop()
            elif self.jobs.empty():
                os._exit(0)  # nothing to finish (torch may still be importing): end now
        self.jobs.put(None)

    def serve(self) -> int:
        # Reading stdin first: if the studio goes away while torch still imports, this ends at once.
        threading.Thread(target=self.read_stdin, name="stdin", daemon=True).start()
        import torch

        from modstudio.learn.trainer import OPTIMIZERS

        default_threads = torch.get_num_threads()
        # torch imports its compiler stack with the first optimiser: pay that before the first job.
        OPTIMIZERS["adam"]([torch.zeros(1, requires_grad=True)])
        while (job := self.jobs.get()) is not None:
            if job.get("devices"):
                self.list_devices()
                continue
            torch.set_num_threads(int(job.get("threads") or 0) or default_threads)
            self.run_job(job)
            if torch.cuda.is_initialized():
                torch.cuda.empty_cache()  # the GPU memory this run cached goes back to other programs
        return 0

    def list_devices(self) -> None:
        from modstudio.learn.device import list_devices

        try:
            self.send({"devices": [{"name": d.name, "label": d.label} for d in list_devices()]})
        except Exception as exc:  # a broken CUDA driver: the studio still offers auto and CPU
            traceback.print_exc()
            self.send({"error": f"could not list the devices: {type(exc).__name__}: {exc}"})

    def run_job(self, job: dict) -> None:
        from modstudio.learn.trainer import Trainer
        from modstudio.project import load_project

        try:
            project = load_project(job["project"])
            trainer = Trainer(project.graph, project.tasks, project.settings,
                              [lambda e: self.send({"event": e.to_json()})])
        except Exception as exc:  # an unreadable input file, a job without its fields
            traceback.print_exc()
            self.send({"error": f"could not start the run: {type(exc).__name__}: {exc}"})
            return
        with self.trainer_lock:
            self.trainer = trainer
            for command in self.early:
                getattr(trainer, command)()
            self.early = []
        try:
            run = trainer.run()
        finally:
            with self.trainer_lock:
                self.trainer = None
        try:
            if run.weights is not None:
                _write_weights(run.weights, job["out"])
        except OSError as exc:  # a full disk: the weights are lost, and the studio says why
            self.send({"error": f"could not hand back the trained weights: {exc}"})
            return
        self.send({"done": True, "weights": run.weights is not None})


def main(argv: list[str]) -> int:
    host = _Host(_claim_stdout())
    try:
        return host.serve()
    except BaseException as exc:  # torch missing or broken: say why, then end
        traceback.print_exc()
        host.send({"error": f"could not start: {type(exc).__name__}: {exc}"})
        return 1


def _claim_stdout():
    """stdout becomes the protocol channel alone: a stray print (ours or a library's) goes to stderr."""
    fd = os.dup(1)
    os.dup2(2, 1)
    sys.stdout = sys.stderr
    return os.fdopen(fd, "wb")


def _write_weights(weights, out: str) -> None:
    from modstudio.project import tensors

    weights_path(out).write_bytes(tensors.encode(weights))
