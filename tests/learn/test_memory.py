"""The exemplar memory every memory strategy shares: budget, class balance, reservoir, herding."""

from __future__ import annotations

import random
from types import SimpleNamespace

import pytest
import torch

from modstudio.learn.memory import ExemplarMemory, balanced_shares, herding_order


def labels(n: int, classes: int, seed: int = 0) -> torch.Tensor:
    g = torch.Generator().manual_seed(seed)
    return torch.randint(classes, (n,), generator=g)


def old_replay_buffer(sizes: list[int], capacity: int, seed: int) -> list[tuple[int, int]]:
    """Replay's reservoir as it was before the shared memory (modstudio/learn/strategies/replay.py)."""
    rng, seen, buffer = random.Random(seed), 0, []
    for task, n in enumerate(sizes):
        for i in rng.sample(range(n), n):
            seen += 1
            if len(buffer) < capacity:
                buffer.append((task, i))
            else:
                j = rng.randrange(seen)
                if j < capacity:
                    buffer[j] = (task, i)
    return buffer


@pytest.mark.parametrize("seed", [0, 3])
@pytest.mark.parametrize("capacity", [0, 7, 50, 10_000])
def test_reservoir_is_the_old_replay_buffer(seed, capacity):
    sizes = [40, 13, 90, 1, 60]
    memory = ExemplarMemory(capacity, "reservoir", seed)
    for task, n in enumerate(sizes):
        memory.add_task(task, labels(n, 2))
        assert memory.items == old_replay_buffer(sizes[:task + 1], capacity, seed)
    # and its draws are replay's: torch.randint over the buffer with the same generator
    a, b = torch.Generator().manual_seed(seed + 1), torch.Generator().manual_seed(seed + 1)
    expected = torch.randint(len(memory), (min(32, len(memory)),), generator=b).tolist() if len(memory) else []
    assert memory.sample(32, a) == expected


@pytest.mark.parametrize("selection", ["reservoir", "random", "herding"])
@pytest.mark.parametrize("budget", [0, 1, 9, 25, 200])
def test_never_over_budget_and_balanced_within_one(selection, budget):
    memory = ExemplarMemory(budget, selection, seed=1)
    sizes = [(60, 2), (45, 3), (80, 2), (30, 1)]
    class_sizes = {}
    for task, (n, classes) in enumerate(sizes):
        y = labels(n, classes, seed=task)
        class_sizes.update({(task, c): int((y == c).sum()) for c in range(classes)})
        x = torch.randn(n, 5)
        memory.add_task(task, y, features=lambda batch: batch * 2, x=x)
        assert len(memory) <= budget
        counts = memory.class_counts()
        assert sum(counts.values()) == len(memory)
        assert all(0 <= i < n for t, i in memory.items if t == task)
        assert len(set(memory.items)) == len(memory)  # no sample twice
        if selection != "reservoir":
            seen = sum(c for _, c in sizes[:task + 1])
            assert len(counts) == seen  # every class seen, even those with nothing left
            # ± 1, but for a class too small for its share, which keeps all it has
            short = [k for c, k in counts.items() if k < class_sizes[c]]
            if short:
                assert max(short) - min(short) <= 1, counts
                assert max(counts.values()) <= max(short), counts
            assert len(memory) == min(budget, sum(n for n, _ in sizes[:task + 1]))


def test_old_classes_shrink_to_a_prefix_of_what_they_kept():
    memory = ExemplarMemory(40, "random", seed=2)
    memory.add_task(0, labels(100, 2))
    before = [i for t, i in memory.items if t == 0]
    assert len(before) == 40
    memory.add_task(1, labels(100, 2, seed=1))
    after = memory.class_counts()
    assert after == {(0, 0): 10, (0, 1): 10, (1, 0): 10, (1, 1): 10}
    y0 = labels(100, 2)
    for label in (0, 1):
        kept_before = [i for i in before if int(y0[i]) == label]
        kept_after = [i for t, i in memory.items if t == 0 and int(y0[i]) == label]
        assert kept_after == kept_before[:10]


def test_a_small_class_keeps_all_and_leaves_the_rest_to_the_others():
    assert balanced_shares([1, 10, 10], 9) == [1, 4, 4]
    assert balanced_shares([5, 5, 5], 10) == [4, 3, 3]  # the remainder to the earliest
    assert balanced_shares([2, 3], 100) == [2, 3]
    assert balanced_shares([], 5) == [] and balanced_shares([4, 4], 0) == [0, 0]
    memory = ExemplarMemory(9, "random")
    memory.add_task(0, torch.tensor([0] + [1] * 20 + [2] * 20))
    assert memory.class_counts() == {(0, 0): 1, (0, 1): 4, (0, 2): 4}


def test_herding_picks_the_sample_nearest_the_mean_first():
    # 1-D toy, mean 0: herding takes 0, then the smaller of ±3 (ties: the first), then the other
    features = torch.tensor([[0.0], [10.0], [-10.0], [3.0], [-3.0]])
    assert herding_order(features, 5)[:3] == [0, 3, 4]
    g = torch.Generator().manual_seed(0)
    cloud = torch.randn(200, 8, generator=g) + 5.0
    order = herding_order(cloud, 20)
    nearest = int((cloud - cloud.mean(0)).norm(dim=1).argmin())
    assert order[0] == nearest and len(set(order)) == 20
    # the herded prefix tracks the mean better than a random subset of the same size
    herded = (cloud[order].mean(0) - cloud.mean(0)).norm()
    rand = torch.stack([(cloud[torch.randperm(200, generator=g)[:20]].mean(0) - cloud.mean(0)).norm()
                        for _ in range(50)])
    assert herded < rand.min()


def test_herding_memory_ranks_each_class_on_the_callers_features():
    # class 0 on the unit circle around angle 0, class 1 around angle 180°: normalised features
    angles = torch.tensor([40.0, 0.0, -50.0, 180.0, 150.0, -160.0]).deg2rad()
    x = torch.stack([angles.cos(), angles.sin()], 1)
    y = torch.tensor([0, 0, 0, 1, 1, 1])
    memory = ExemplarMemory(2, "herding")
    with pytest.raises(ValueError, match="features"):
        memory.add_task(0, y)
    memory = ExemplarMemory(2, "herding")
    memory.add_task(0, y, features=lambda batch: batch, x=x)
    assert memory.items == [(0, 1), (0, 3)]  # the sample at each class's mean direction


def fake_ctx(tasks):
    """A TaskContext's data/labels for ``tasks`` [(x, y)], labels shifted as a shared head would."""
    data = [SimpleNamespace(train_x=x, train_y=y) for x, y in tasks]
    return SimpleNamespace(data=lambda t: data[t], labels=lambda t, local: local + 10 * t)


def test_gather_groups_by_task_and_counts_its_bytes():
    x0, x1 = torch.arange(20.0).reshape(10, 2), 100 + torch.arange(12.0).reshape(6, 2)
    y0, y1 = torch.arange(10) % 2, torch.arange(6) % 3
    ctx = fake_ctx([(x0, y0), (x1, y1)])
    memory = ExemplarMemory(100, "reservoir")
    memory.add_task(0, y0)
    memory.add_task(1, y1)
    items = memory.items
    picks = [len(items) - 1, 0, 3, len(items) - 2]
    x, y, t = memory.gather(ctx, picks)
    expected = sorted(picks, key=lambda p: [items[q][0] for q in picks].index(items[p][0]))  # stable grouping
    for row, p in enumerate(expected):
        task, i = items[p]
        source = (x0, y0) if task == 0 else (x1, y1)
        assert torch.equal(x[row], source[0][i]) and int(y[row]) == int(source[1][i]) + 10 * task
        assert int(t[row]) == task
    every_x, _, _ = memory.gather(ctx)
    assert len(every_x) == 16
    assert memory.gather(ctx, [])[0].shape == (0, 2)
    per_sample = 2 * 4 + 8  # two float32 inputs and an int64 label
    assert memory.nbytes(ctx) == 16 * per_sample
    memory.set_extras([0, 1], torch.zeros(2, 5))
    assert memory.nbytes(ctx) == 16 * per_sample + 2 * 5 * 4
    assert [e.shape for e in memory.extras([1, 0])] == [(5,), (5,)]


def test_extras_leave_with_their_items():
    memory = ExemplarMemory(3, "random")
    first = memory.add_task(0, torch.tensor([0, 0, 0, 1, 1, 1]))
    memory.set_extras(first, torch.arange(3.0).unsqueeze(1))
    memory.add_task(1, torch.tensor([0, 0, 1, 1]))
    assert len(memory) == 3 and len(memory._extras) == sum(1 for t, _ in memory.items if t == 0)


def test_a_task_is_offered_once_and_selections_are_known():
    memory = ExemplarMemory(5, "random")
    memory.add_task(0, torch.tensor([0, 1]))
    with pytest.raises(ValueError, match="already"):
        memory.add_task(0, torch.tensor([0, 1]))
    with pytest.raises(ValueError, match="unknown memory selection"):
        ExemplarMemory(5, "fifo")
    with pytest.raises(ValueError, match="at least 0"):
        ExemplarMemory(-1, "random")
