"""Objects the window keeps for its life are out of the cyclic collector's walks (no 100 ms stalls)."""

import gc


def test_building_the_views_freezes_what_exists_out_of_full_collections(window):
    gc.unfreeze()
    panel = window.training.panel
    assert panel.plots is None  # built on first use, after the window's first paint
    panel.ensure_views()
    assert gc.get_freeze_count() > 10_000  # the window, its views, pyqtgraph


def test_a_background_job_freezes_what_it_loaded(qtbot):
    from modstudio.gui.jobs import Job

    gc.unfreeze()
    job = Job(lambda: 42)
    with qtbot.waitSignal(job.done, timeout=10000) as done:
        job.start()
    job.wait()
    assert done.args == [42] and gc.get_freeze_count() > 0
