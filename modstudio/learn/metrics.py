"""Continual-learning metrics from the accuracy matrix, exactly as published.

``R`` has T+1 rows and T columns: row 0 is the test accuracy of every task *before any training*
(the network at initialisation, each task evaluated through its own, untrained head), and row i
(1-based) is the accuracy on every task right after training task i. With ``R[i][j]`` in that
layout (task indices 1..T as in the papers, stored 0-based for columns):

- ACC  = 1/T · Σ_i R[T][i]                                         (Lopez-Paz & Ranzato 2017)
- BWT  = 1/(T−1) · Σ_{i<T} (R[T][i] − R[i][i])                      (Lopez-Paz & Ranzato 2017)
- FWT  = 1/(T−1) · Σ_{i>1} (R[i−1][i] − b_i), b_i = R[0][i]         (Lopez-Paz & Ranzato 2017)
- forgetting = 1/(T−1) · Σ_{j<T} max_{l∈1..T−1} (R[l][j] − R[T][j]) (Chaudhry et al. 2018)
- AIA  = 1/T · Σ_i A_i, A_i = Σ_{j≤i} n_j R[i][j] / Σ_{j≤i} n_j     (Rebuffi et al. 2017)
  the average incremental accuracy: after each step, the accuracy on every class seen so far,
  with n_j task j's test-set size (equal weights when the sizes are not known)

A stopped run has fewer trained rows than columns; metrics are then computed over the tasks
trained so far (T = number of trained rows), and undefined ones (T = 1 for BWT) are None.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Sequence

Matrix = Sequence[Sequence[float | None]]


@dataclass
class Summary:
    tasks_trained: int
    acc: float | None
    bwt: float | None
    fwt: float | None
    forgetting: float | None
    final_accuracies: list[float] = field(default_factory=list)
    acc_matrix: list[list[float]] = field(default_factory=list)
    aia: float | None = None

    def to_dict(self) -> dict:
        """Summary figures for JSON (the matrix itself is stored beside them, as ``acc_matrix``)."""
        return {
            "tasks_trained": self.tasks_trained,
            "acc": self.acc,
            "bwt": self.bwt,
            "fwt": self.fwt,
            "forgetting": self.forgetting,
            "aia": self.aia,
            "final_accuracies": list(self.final_accuracies),
        }


def _mean(values: list[float]) -> float | None:
    return sum(values) / len(values) if values else None


def summarize(matrix: Matrix, test_sizes: Sequence[int] | None = None) -> Summary:
    """ACC, BWT, FWT, forgetting and AIA from an accuracy matrix with the before-training row;
    ``test_sizes`` (samples in each task's test split) weight AIA's accuracy over the classes seen."""
    if not matrix:
        raise ValueError("the accuracy matrix needs at least the row before training")
    R = [list(row) for row in matrix]
    n_tasks = len(R[0])
    if any(len(row) != n_tasks for row in R):
        raise ValueError("every row of the accuracy matrix needs one entry per task")
    trained = len(R) - 1
    if trained > n_tasks:
        raise ValueError(f"{trained} trained rows for {n_tasks} tasks")
    if trained == 0:
        return Summary(0, None, None, None, None, [], R)
    T = trained
    final = R[T]
    acc = _mean([final[i] for i in range(T)])
    bwt = _mean([final[i] - R[i + 1][i] for i in range(T - 1)]) if T > 1 else None
    fwt = _mean([R[i][i] - R[0][i] for i in range(1, T)]) if T > 1 else None
    forgetting = (
        _mean([max(R[l][j] for l in range(1, T)) - final[j] for j in range(T - 1)]) if T > 1 else None
    )
    sizes = list(test_sizes) if test_sizes and len(test_sizes) == n_tasks else [1] * n_tasks
    seen = [sum(sizes[j] * R[i][j] for j in range(i)) / max(sum(sizes[:i]), 1) for i in range(1, T + 1)]
    return Summary(T, acc, bwt, fwt, forgetting, [final[i] for i in range(T)], R, aia=_mean(seen))


class AccuracyMatrix:
    """Collects R row by row during a run (``update``), ready to ``result`` at any point."""

    def __init__(self, n_tasks: int) -> None:
        self.n_tasks = n_tasks
        self.rows: list[list[float]] = []

    def reset(self) -> None:
        self.rows.clear()

    def update(self, accuracies: Sequence[float]) -> None:
        if len(accuracies) != self.n_tasks:
            raise ValueError(f"expected {self.n_tasks} accuracies, got {len(accuracies)}")
        self.rows.append([float(a) for a in accuracies])

    def result(self) -> Summary:
        return summarize(self.rows)
