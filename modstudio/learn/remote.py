"""A training run in its own process, behind the Trainer's interface (``run``, ``stop``, ``pause``,
``resume``, callbacks). The studio trains this way; see ``modstudio.learn.host`` for why and for
the protocol. Nothing here imports torch: the studio's process never has to.

Whatever happens to the process, ``run()`` returns a Run record and never raises. The record is
built here, by the same recorder the trainer uses, from the events the process sends, so it is
the record an in-process run of the same settings makes; the process hands back only the trained
weights. If it died (a crash, the out-of-memory killer, ``kill()``), the run is failed and keeps
what its events had said, with the process's last words on stderr as the details.
"""

from __future__ import annotations

import atexit
import collections
import json
import logging
import os
import signal
import subprocess
import sys
import tempfile
import threading
import weakref
from pathlib import Path
from typing import Any, Callable, Sequence

from modstudio.learn.events import Event, RunFinished, event_from_json
from modstudio.learn.host import HOST_FLAG, weights_path
from modstudio.learn.recorder import RunRecorder
from modstudio.project.errors import ProjectFileError
from modstudio.project.model import Project
from modstudio.project.run import Run

log = logging.getLogger(__name__)
STDERR_LINES = 80  # of the process's stderr, kept for the error report


def host_command() -> list[str]:
    """The command line that starts a training process: the same program, frozen bundle or not."""
    if getattr(sys, "frozen", False):
        return [sys.executable, HOST_FLAG]
    return [sys.executable, "-m", "modstudio", HOST_FLAG]


def _host_environment() -> dict[str, str]:
    """The studio's environment, with this copy of modstudio first on the path (a checkout runs too)."""
    env = dict(os.environ)
    root = str(Path(__file__).resolve().parents[2])
    env["PYTHONPATH"] = os.pathsep.join(p for p in (root, env.get("PYTHONPATH")) if p)
    return env


class HostProcess:
    """One training process (``modstudio.learn.host``): it imports torch, then waits for one job."""

    def __init__(self) -> None:
        flags = getattr(subprocess, "CREATE_NO_WINDOW", 0)  # no console window on Windows
        self.popen = subprocess.Popen(host_command(), stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                                      stderr=subprocess.PIPE, env=_host_environment(), creationflags=flags)
        self.stderr_tail: collections.deque[str] = collections.deque(maxlen=STDERR_LINES)
        self._stderr_thread = threading.Thread(target=self._keep_stderr, name="training-stderr", daemon=True)
        self._stderr_thread.start()
        _started.add(self)

    def alive(self) -> bool:
        return self.popen.poll() is None

    def send(self, line: str) -> None:
        try:
            self.popen.stdin.write(line.encode("utf-8") + b"\n")
            self.popen.stdin.flush()
        except (OSError, ValueError):
            pass  # the process has ended already; whoever reads its output reports how

    def kill(self) -> None:
        if self.alive():
            self.popen.kill()

    def messages(self):
        """The JSON objects the process writes, one a line, until its output ends (it exited)."""
        for raw in iter(self.popen.stdout.readline, b""):
            try:
                message = json.loads(raw)
            except ValueError:
                message = None
            if isinstance(message, dict):
                yield message
            else:
                log.warning("training process %d: unreadable message %r", self.popen.pid, raw[:200])

    def close(self) -> int:
        """End the process (its stdin closing ends a waiting one; a busy one is killed) and reap it."""
        try:
            self.popen.stdin.close()
        except OSError:
            pass
        try:
            code = self.popen.wait(10)
        except subprocess.TimeoutExpired:
            self.popen.kill()
            code = self.popen.wait()
        self._stderr_thread.join(5)
        for pipe in (self.popen.stdout, self.popen.stderr):
            pipe.close()
        return code

    def _keep_stderr(self) -> None:
        for raw in self.popen.stderr:
            line = raw.decode("utf-8", "replace").rstrip()
            self.stderr_tail.append(line)
            log.info("training process %d: %s", self.popen.pid, line)


_idle: HostProcess | None = None  # a training process waiting for the next run
_idle_lock = threading.Lock()
_started: weakref.WeakSet[HostProcess] = weakref.WeakSet()  # every one not yet reaped


def start_spare() -> None:
    """Start a training process ahead of the next run, so that run starts without the seconds of
    importing torch. At most one waits; it ends with the studio (its stdin closes)."""
    global _idle
    with _idle_lock:
        if _idle is None or not _idle.alive():
            try:
                _idle = HostProcess()
            except OSError as exc:
                log.warning("could not start a training process ahead: %s", exc)


def end_spare() -> None:
    """End the waiting training process, if any (the studio is closing: no need to wait for it)."""
    global _idle
    with _idle_lock:
        idle, _idle = _idle, None
    if idle is not None:
        idle.kill()
        idle.close()


def _end_all() -> None:
    """At exit: no training process outlives the studio (one may still be importing torch)."""
    for process in list(_started):
        process.kill()


def _take_process() -> HostProcess:
    global _idle
    with _idle_lock:
        idle, _idle = _idle, None
    if idle is not None and idle.alive():
        return idle
    if idle is not None:
        idle.close()
    return HostProcess()


def _give_back(process: HostProcess) -> None:
    """A process whose run ended normally serves the next run; one waiting is enough."""
    global _idle
    with _idle_lock:
        if _idle is None and process.alive():
            _idle, process = process, None
    if process is not None:
        process.close()


atexit.register(_end_all)


def list_devices() -> list[tuple[str, str]]:
    """``(name, label)`` of every device a run can use (CUDA GPUs by name and memory, MPS, the CPU),
    as the training process sees them; RuntimeError if it cannot tell. Takes seconds the first time
    (the process imports torch); the process then waits for the first run."""
    process = _take_process()
    process.send(json.dumps({"devices": True}))
    for message in process.messages():
        if "devices" in message:
            _give_back(process)
            return [(str(d["name"]), str(d["label"])) for d in message["devices"]]
        if "error" in message:
            _give_back(process)
            raise RuntimeError(f"the training process {message['error']}")
    code = process.close()
    raise RuntimeError(f"could not list the devices: the training process ended (exit code {code})")


class RemoteTrainer:
    """Trains ``tasks`` on ``graph`` with ``settings`` in a child process; thread-safe controls."""

    def __init__(self, graph, tasks: Sequence[Any], settings, callbacks: Sequence[Callable[[Event], None]] = (),
                 threads: int | None = None) -> None:
        self.graph = graph
        self.tasks = list(tasks)
        self.settings = settings
        self.callbacks = list(callbacks)
        self.threads = threads or 0
        self.process: HostProcess | None = None
        self._lock = threading.Lock()
        self._pending: list[str] = []  # commands given before the process had its job
        self._killed = False

    # ------------------------------------------------------------------ controls (any thread)

    def stop(self) -> None:
        self._command("stop")

    def pause(self) -> None:
        self._command("pause")

    def resume(self) -> None:
        self._command("resume")

    def kill(self) -> None:
        """End the process now (a run that does not answer stop); ``run()`` returns a failed run."""
        with self._lock:
            self._killed = True
            if self.process is not None:
                self.process.kill()

    def _command(self, command: str) -> None:
        with self._lock:
            if self.process is None:
                self._pending.append(command)
            else:
                self.process.send(command)

    # ------------------------------------------------------------------ the run (one thread)

    def run(self) -> Run:
        recorder = RunRecorder(self.graph, self.settings)
        failure = self._run(recorder)
        if failure is not None:  # the process died, never started, or its weights are unreadable
            message, details = failure
            if recorder.finished:
                recorder.end("failed", message, details or recorder.run.metrics.traceback)
                recorder.run.weights = None
            else:  # say so as the trainer would have
                event = RunFinished("failed", message, details)
                recorder(event)
                for callback in self.callbacks:
                    callback(event)
        return recorder.run

    def _run(self, recorder: RunRecorder) -> tuple[str, str] | None:
        """Relay the run; None when it ended as the process said, else (message, details) of a failure."""
        with tempfile.TemporaryDirectory(prefix="modstudio-run-") as folder:
            project_path, out = Path(folder) / "input.modstudio", Path(folder) / "result"
            try:
                _write_input(self.graph, self.tasks, self.settings, project_path)
                self._start({"project": str(project_path), "out": str(out), "threads": self.threads})
            except (OSError, ProjectFileError) as exc:
                return f"could not start the training process: {exc}", ""
            done, error = self._relay(recorder)
            with self._lock:
                process, self.process = self.process, None  # later commands are for no one
            if done is None:
                code = process.close()
                return self._death_message(code, process), "\n".join(process.stderr_tail)
            _give_back(process)
            if error:
                return f"the training process {error}", "\n".join(process.stderr_tail)
            if done.get("weights"):
                try:
                    recorder.run.weights = self._read_weights(out)
                except (OSError, ProjectFileError, ValueError) as exc:
                    return f"the training process's weights could not be read: {exc}", ""
            return None

    def _start(self, job: dict) -> None:
        process = _take_process()
        process.stderr_tail.clear()  # a reused process: only this run's words go in its report
        with self._lock:
            self.process = process
            if self._killed:
                process.kill()
            process.send(json.dumps(job))
            for command in self._pending:
                process.send(command)
            self._pending.clear()

    def _relay(self, recorder: RunRecorder) -> tuple[dict | None, str]:
        """Hand each event to the recorder and the callbacks until the process says the job ended
        (its closing message, and its error if the run could not be set up), or until the process
        itself ends (None)."""
        for message in self.process.messages():
            if "done" in message:
                return message, ""
            if "error" in message:
                return message, str(message["error"])
            if "event" not in message:
                continue
            try:
                event = event_from_json(message["event"])
            except (ValueError, TypeError, AttributeError) as exc:
                log.warning("training process: unreadable event %r (%s)", message["event"], exc)
                continue
            recorder(event)
            for callback in self.callbacks:
                callback(event)
        return None, ""

    def _death_message(self, code: int, process: HostProcess) -> str:
        if self._killed:
            return "the training process was ended because it did not stop"
        if code < 0:
            try:
                name = signal.Signals(-code).name
            except ValueError:
                name = f"signal {-code}"
            hint = " (the system may have run out of memory)" if -code == getattr(signal, "SIGKILL", 9) else ""
            return f"the training process was killed by {name}{hint}"
        last = next((line for line in reversed(process.stderr_tail) if line.strip()), "")
        return f"the training process ended unexpectedly (exit code {code})" + (f": {last}" if last else "")

    def _read_weights(self, out: Path) -> dict:
        from modstudio.project import tensors
        from modstudio.project.weights import check_weights

        path = weights_path(out)
        weights = tensors.decode(path.read_bytes(), path.name)
        check_weights(weights, self.graph, self.tasks, "the trained run")
        return weights


def _write_input(graph, tasks, settings, path: Path) -> None:
    from modstudio.project.saving import save_project

    save_project(Project(name="run", graph=graph, tasks=list(tasks), settings=settings), path,
                 backup=False, durable=False, self_contained=True)
