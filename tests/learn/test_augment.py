"""Augmentation on the device: random crop after zero padding and horizontal flip, per sample,
seeded by the run, training batches only."""

import numpy as np
import pytest
import torch

import modstudio as ms
from modstudio.data import split_by_class
from modstudio.data.augment import Augmentation
from modstudio.learn.augment import Augmenter, augment_batch
from modstudio.learn.trainer import Trainer
from tests.learn.test_compact_data import _images, _project


def _ramp(n=6, c=2, h=5, w=7, dtype=torch.float32):
    """Samples whose every pixel is distinct and non-zero, so a shift or mirror shows where it came from."""
    base = torch.arange(1, c * h * w + 1, dtype=torch.float32).view(1, c, h, w)
    return (base + 100 * torch.arange(n).view(n, 1, 1, 1)).to(dtype) if dtype.is_floating_point \
        else (base.repeat(n, 1, 1, 1) % 250 + 1).to(dtype)


def _run(batch, padding, flip, seed=0, most=None):
    n = len(batch)
    generator = torch.Generator().manual_seed(seed)
    return augment_batch(batch, torch.full((n,), padding), torch.full((n,), flip), generator,
                         padding if most is None else most)


def _shift_of(original, moved, p):
    """The (dy, dx) that maps ``original`` onto ``moved`` with zeros shifted in, or None."""
    h, w = original.shape[-2:]
    padded = torch.nn.functional.pad(original, (p, p, p, p))
    for dy in range(2 * p + 1):
        for dx in range(2 * p + 1):
            if torch.equal(padded[..., dy:dy + h, dx:dx + w], moved):
                return dy - p, dx - p
    return None


@pytest.mark.parametrize("dtype", [torch.uint8, torch.float32])
def test_crop_shifts_content_within_the_padding_and_fills_zeros(dtype):
    batch = _ramp(n=64, dtype=dtype)
    out = _run(batch, 2, False)
    assert out.shape == batch.shape and out.dtype == dtype
    shifts = [_shift_of(batch[i], out[i], 2) for i in range(len(batch))]
    assert None not in shifts  # every sample is its own image moved by at most ±2 px, zeros around
    assert {s for s in shifts} != {(0, 0)} and len(set(shifts)) > 5  # per sample, and varied
    assert {abs(v) for s in shifts for v in s} <= {0, 1, 2}
    moved = [i for i, s in enumerate(shifts) if s != (0, 0)]
    assert (out[moved] == 0).any()  # a shifted sample shows the zero padding


def test_flip_mirrors_about_half_the_samples_and_nothing_else():
    batch = _ramp(n=200)
    out = _run(batch, 0, True)
    mirrored = torch.tensor([torch.equal(out[i], batch[i].flip(-1)) for i in range(len(batch))])
    kept = torch.tensor([torch.equal(out[i], batch[i]) for i in range(len(batch))])
    assert bool((mirrored ^ kept).all())
    assert 60 < int(mirrored.sum()) < 140


def test_no_padding_and_no_flip_changes_nothing_and_padding_follows_each_sample():
    batch = _ramp(n=32)
    assert torch.equal(_run(batch, 0, False), batch)
    # mixed tasks in one batch: task 0 untouched, task 1 cropped by ±3 (padded to the batch's widest)
    augmenter = Augmenter([Augmentation(), Augmentation(crop_padding=3)], torch.device("cpu"), seed=1)
    ids = torch.tensor([0, 1] * 16)
    out = augmenter(0, batch, ids)
    assert torch.equal(out[ids == 0], batch[ids == 0])
    assert all(_shift_of(batch[i], out[i], 3) is not None for i in range(1, 32, 2))
    assert not torch.equal(out[ids == 1], batch[ids == 1])
    assert augmenter(0, batch, None) is batch  # the task's own batch, no augmentation: the very tensor


def test_the_draws_repeat_for_a_seed_and_differ_across_batches_and_seeds():
    batch = _ramp(n=16)
    first = Augmenter([Augmentation(4, True)], torch.device("cpu"), seed=7)
    again = Augmenter([Augmentation(4, True)], torch.device("cpu"), seed=7)
    a1, a2 = first(0, batch, None), first(0, batch, None)
    assert torch.equal(a1, again(0, batch, None)) and torch.equal(a2, again(0, batch, None))
    assert not torch.equal(a1, a2)
    other = Augmenter([Augmentation(4, True)], torch.device("cpu"), seed=8)
    assert not torch.equal(a1, other(0, batch, None))


def _same_weights(a, b) -> bool:
    """Same tensors in the same order (each project's graph has its own node ids)."""
    a, b = list(a.weights.values()), list(b.weights.values())
    return len(a) == len(b) and all(torch.equal(torch.as_tensor(x), torch.as_tensor(y)) for x, y in zip(a, b))


@pytest.fixture(scope="module")
def image_tasks():
    return split_by_class(_images()[0], n_tasks=3)


@pytest.mark.parametrize("strategy", ["finetune", "replay"])
def test_augmentation_off_trains_bit_for_bit_as_without_the_hook(image_tasks, strategy, monkeypatch):
    """The hook as it was (the batch itself) against today's: same matrix, same weights."""
    plain = ms.train(_project(image_tasks, strategy, epochs=2)).run
    monkeypatch.setattr(Trainer, "_augment", lambda self, task, batch, ids: batch)
    before = ms.train(_project(image_tasks, strategy, epochs=2)).run
    assert plain.status == before.status == "finished"
    assert plain.acc_matrix == before.acc_matrix
    assert plain.curves == before.curves
    assert _same_weights(plain, before)


@pytest.mark.parametrize("strategy", ["finetune", "replay"])
def test_a_run_with_augmentation_repeats_exactly_and_differs_from_one_without(image_tasks, strategy):
    augmented = [t.with_augmentation(Augmentation(crop_padding=1, flip=True)) for t in image_tasks]
    runs = [ms.train(_project(augmented, strategy, epochs=2, seed=5)).run for _ in range(2)]
    assert all(r.status == "finished" for r in runs)
    assert runs[0].acc_matrix == runs[1].acc_matrix
    assert _same_weights(runs[0], runs[1])
    plain = ms.train(_project(image_tasks, strategy, epochs=2, seed=5)).run
    assert not _same_weights(plain, runs[0])


def test_evaluation_never_augments(image_tasks):
    """The trainer's evaluation of an augmented task is that of the same weights without it."""
    augmented = [t.with_augmentation(Augmentation(crop_padding=2, flip=True)) for t in image_tasks]
    trainer = Trainer(_project(augmented).graph, augmented, _project(augmented).settings)
    trainer._prepare()
    with_aug = trainer.evaluate_all()
    trainer.tasks = list(image_tasks)
    assert trainer.evaluate_all() == with_aug
    assert np.isfinite(with_aug).all()


@pytest.mark.skipif(not torch.cuda.is_available(), reason="needs a CUDA device")
def test_on_cuda_the_draws_stay_on_the_device_and_repeat():
    device = torch.device("cuda")
    batch = _ramp(n=32, dtype=torch.uint8).to(device)
    runs = [Augmenter([Augmentation(4, True)], device, seed=3)(0, batch, None) for _ in range(2)]
    assert runs[0].device.type == "cuda" and torch.equal(runs[0], runs[1])
    shifts = [_shift_of(batch[i].cpu(), runs[0][i].cpu(), 4) for i in range(32)]
    flipped = [_shift_of(batch[i].cpu().flip(-1), runs[0][i].cpu(), 4) for i in range(32)]
    assert all(s is not None or f is not None for s, f in zip(shifts, flipped))


def test_a_process_group_of_one_augments_as_the_plain_trainer(image_tasks, monkeypatch):
    """Under DDP the hook runs on each rank's share; rank 0 of one draws the single process's stream."""
    import torch.distributed as dist

    from modstudio.learn.distributed import start_session
    from tests.learn.test_distributed import _free_port

    augmented = [t.with_augmentation(Augmentation(crop_padding=1, flip=True)) for t in image_tasks]
    plain = ms.train(_project(augmented, "replay", epochs=2, seed=4)).run
    monkeypatch.setenv("MASTER_ADDR", "127.0.0.1")
    monkeypatch.setenv("MASTER_PORT", str(_free_port()))
    session = start_session("cpu", {"RANK": "0", "WORLD_SIZE": "1", "LOCAL_RANK": "0"})
    try:
        run = session.train(_project(augmented, "replay", epochs=2, seed=4)).run
    finally:
        session.close()
    assert not dist.is_initialized()
    assert run.status == "finished", run.message
    assert run.acc_matrix == plain.acc_matrix and _same_weights(run, plain)
