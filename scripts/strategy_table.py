"""Produce the README's strategy table with the real command line: for every strategy, scenario
and seed, `modstudio train EXAMPLE --seeds 0-(n-1) --json`, then mean ± std of ACC, AIA, BWT, forgetting,
parameters, memory (and, class-incremental, how often the task was inferred right).

    python scripts/strategy_table.py [--example split-digits] [--seeds 5] [--out table.md]
        [--strategies finetune,expansion:task_inference=gate,...]

A strategy may carry parameters after a colon (``name:key=value:key=value``); in the class scenario
the path strategies are also run with each task inference (``CLASS_VARIANTS``).
"""

from __future__ import annotations

import argparse
import json
import statistics
import subprocess
import sys
import tempfile
from pathlib import Path

STRATEGIES = ["finetune", "ewc", "si", "mas", "lwf", "replay", "der_pp", "agem", "icarl", "gdumb", "joint",
              "progressive", "expansion"]
CLASS_VARIANTS = {  # the class scenario's other task inferences (the default of both: the gate)
    "progressive": ["task_inference=confidence", "task_inference=memory"],
    "expansion": ["task_inference=unified", "task_inference=confidence", "task_inference=memory"],
}


def train(project: Path, entry: str, scenario: str, seeds: int) -> list[dict]:
    """Every seed's run of one configuration, by ``modstudio train --seeds 0-(n-1) --json``."""
    strategy, *params = entry.split(":")
    out = project.with_name(f"run-{scenario}.modstudio")
    command = [sys.executable, "-m", "modstudio", "train", str(project), "--strategy", strategy,
               "--scenario", scenario, "--seeds", f"0-{seeds - 1}", "--json", "--no-weights", "-o", str(out)]
    for param in params:
        command += ["--param", param]
    result = subprocess.run(command, capture_output=True, text=True)
    if result.returncode not in (0, 1):  # 1: a run failed, which the table says
        raise RuntimeError(f"{' '.join(command)} failed:\n{result.stderr}")
    return json.loads(result.stdout.strip().splitlines()[-1])["runs"]


def label(entry: str) -> str:
    strategy, *params = entry.split(":")
    return f"{strategy} ({', '.join(p.split('=', 1)[1] if p.startswith('task_inference=') else p for p in params)})" \
        if params else strategy


def entries(strategies: list[str], scenario: str, variants: bool) -> list[str]:
    out = []
    for entry in strategies:
        out.append(entry)
        if variants and scenario == "class" and ":" not in entry:
            out += [f"{entry}:{v}" for v in CLASS_VARIANTS.get(entry, [])]
    return out


def fmt(values: list[float], scale: float = 100.0, signed: bool = False) -> str:
    mean = statistics.mean(values) * scale
    std = statistics.stdev(values) * scale if len(values) > 1 else 0.0
    return f"{mean:+.1f} ± {std:.1f}" if signed else f"{mean:.1f} ± {std:.1f}"


def memory(runs: list[dict]) -> str:
    """The exemplar memory the runs kept: samples and KiB (the same budget makes a fair comparison)."""
    kept = [r for r in runs if r.get("memory_samples") is not None]
    if not kept:
        return "–"
    samples = statistics.mean(r["memory_samples"] for r in kept)
    kib = statistics.mean(r["memory_bytes"] for r in kept) / 1024
    return f"{samples:,.0f} ({kib:,.1f} KiB)"


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--example", default="split-digits")
    parser.add_argument("--seeds", type=int, default=5)
    parser.add_argument("--scenarios", default="task,class")
    parser.add_argument("--strategies", default=",".join(STRATEGIES))
    parser.add_argument("--no-variants", action="store_true", help="only each strategy's default task inference")
    parser.add_argument("--out")
    args = parser.parse_args()
    lines = []
    with tempfile.TemporaryDirectory() as tmp:
        project = Path(tmp) / "example.modstudio"
        subprocess.run([sys.executable, "-m", "modstudio", "new", str(project), "--example", args.example],
                       check=True, capture_output=True)
        for scenario in args.scenarios.split(","):
            extra = "task inference" if scenario == "class" else ""
            lines += [f"\n{args.example}, {scenario}-incremental, {args.seeds} seeds (mean ± std, accuracy in %)\n",
                      f"| strategy | ACC | AIA | BWT | forgetting | parameters | memory | seconds |"
                      f"{' ' + extra + ' |' if extra else ''}",
                      "|---|---:|---:|---:|---:|---:|---:|---:|" + ("---:|" if extra else "")]
            for strategy in entries(args.strategies.split(","), scenario, not args.no_variants):
                runs = train(project, strategy, scenario, args.seeds)
                bad = [r for r in runs if r["status"] != "finished"]
                if bad:
                    lines.append(f"| {label(strategy)} | failed: {bad[0]['message']} |")
                    continue
                params = statistics.mean(r["total_parameters"] for r in runs)
                seconds = statistics.mean(sum(r["seconds_per_task"]) for r in runs)
                row = (f"| {label(strategy)} | {fmt([r['acc'] for r in runs])} | {fmt([r['aia'] for r in runs])} "
                       f"| {fmt([r['bwt'] for r in runs], signed=True)} "
                       f"| {fmt([r['forgetting'] for r in runs])} | {params:,.0f} | {memory(runs)} | {seconds:.1f} |")
                if extra:
                    inference = [statistics.mean(r["task_inference"]) for r in runs if r.get("task_inference")]
                    row += f" {fmt(inference)} |" if inference else " – |"
                lines.append(row)
                print(lines[-1], file=sys.stderr, flush=True)
    text = "\n".join(lines) + "\n"
    if args.out:
        Path(args.out).write_text(text)
    print(text)
    return 0


if __name__ == "__main__":
    sys.exit(main())
