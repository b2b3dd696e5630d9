"""The canvas overlay while expansion searches: which modules a candidate reuses, which it grows,
and whether those start as copies of the source's or anew."""

from types import SimpleNamespace

from modstudio.gui.training.path_badges import live_badges
from modstudio.learn.events import CandidateEvaluated

REPORT = SimpleNamespace(order=["in", "a", "b", "c", "head"], input_id="in", head_id="head",
                         nodes={n: SimpleNamespace(param_count=0 if n == "in" else 10)
                                for n in ("in", "a", "b", "c", "head")})


def _badges(candidate):
    state = SimpleNamespace(current_task=1, paths=[{}], metrics=None, decisions={}, candidates=[candidate])
    return {node: badge.text for node, badge in live_badges(state, REPORT, True).items()}


def test_a_fresh_suffix_candidate_grows_the_first_modules_anew():
    badges = _badges(CandidateEvaluated(1, 2, 0.9, 100, 0, "suffix", "fresh"))
    assert badges == {"a": "try grow anew", "b": "try reuse ← T1", "c": "try reuse ← T1"}


def test_a_copied_prefix_candidate_grows_the_last_modules_from_copies():
    badges = _badges(CandidateEvaluated(1, 1, 0.9, 100, 0, "prefix", "copy"))
    assert badges == {"a": "try reuse ← T1", "b": "try grow", "c": "try grow"}
