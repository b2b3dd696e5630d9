"""CUDA smoke test of training, the way the studio and the CLI run it (needs a CUDA GPU):

    PYTHONPATH=. python scripts/cuda_smoke.py

- the devices the studio's run settings offer, as its training process lists them;
- every strategy on split-digits on the GPU in a training process (the studio's path), with its
  accuracy, BWT and samples/s, and the same seed on the CPU beside it;
- the conv example and a class-incremental expansion run on the GPU;
- stop and a killed process mid-run on the GPU;
- ``modstudio train --device cuda`` (the CLI's in-process path).
Prints one line per check; exits non-zero if a run did not end as expected.
"""

from __future__ import annotations

import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path


def run(example: str, device: str, strategy: str, **settings):
    from modstudio.examples import build_example
    from modstudio.learn.remote import RemoteTrainer

    project = build_example(example)
    project.configure(strategy=strategy, device=device, **settings)
    events = []
    trainer = RemoteTrainer(project.graph, project.tasks, project.settings, [events.append])
    started = time.time()
    return trainer, events, started, project


def finish(trainer, events, started):
    result = trainer.run()
    rates = [e.samples_per_s for e in events if e.kind == "progress"]
    device = next((e.device for e in events if e.kind == "run_started"), "?")
    return result, device, time.time() - started, (rates[-1] if rates else 0.0)


def main() -> int:
    import torch

    from modstudio.learn.remote import list_devices

    failures = 0
    print(f"torch {torch.__version__}, CUDA {torch.version.cuda}, {torch.cuda.get_device_name(0)}")
    print("devices offered:", list_devices())
    print(f"{'strategy':12} {'device':7} {'status':9} {'ACC':>6} {'BWT':>6} {'s':>6} {'samples/s':>10}")
    for strategy in ("finetune", "ewc", "lwf", "replay", "joint", "progressive", "expansion"):
        for device in ("cuda", "cpu"):
            result, where, seconds, rate = finish(*run("split-digits", device, strategy)[:3])
            m = result.metrics
            print(f"{strategy:12} {where:7} {result.status:9} {(m.acc or 0) * 100:6.1f} "
                  f"{(m.bwt or 0) * 100:+6.1f} {seconds:6.1f} {rate:10,.0f}", result.message[:120])
            failures += result.status != "finished"
    for example, strategy, extra in (("split-digits-conv", "expansion", {}),
                                     ("split-digits", "expansion", {"scenario": "class"})):
        result, where, seconds, rate = finish(*run(example, "cuda", strategy, **extra)[:3])
        print(f"{example} {strategy} {extra}: {result.status} on {where}, ACC {(result.metrics.acc or 0) * 100:.1f} %, "
              f"{seconds:.1f} s, {rate:,.0f} samples/s {result.message[:120]}")
        failures += result.status != "finished"

    for action in ("stop", "kill"):
        trainer, events, started, _ = run("split-digits", "cuda", "finetune", epochs=100_000)
        threading.Timer(8.0, getattr(trainer, action)).start()
        result, where, seconds, rate = finish(trainer, events, started)
        expected = "stopped" if action == "stop" else "failed"
        print(f"{action} mid-run on {where}: {result.status} ({result.message[:100]}), "
              f"{len(result.acc_matrix)} matrix rows, weights {'kept' if result.weights else 'none'}")
        failures += result.status != expected

    with tempfile.TemporaryDirectory() as folder:
        project = Path(folder) / "cli.modstudio"
        for args in (["new", str(project), "--example", "split-digits"],
                     ["train", str(project), "--device", "cuda", "--strategy", "expansion", "--json"]):
            done = subprocess.run([sys.executable, "-m", "modstudio", *args], capture_output=True, text=True)
            ok = done.returncode == 0
            print(f"modstudio {args[0]}: exit {done.returncode}", (done.stdout or done.stderr)[-300:].strip())
            failures += not ok
    print("failures:", failures)
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
