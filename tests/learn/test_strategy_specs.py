"""Strategy specs: one declaration per strategy, read by everything; classes reach the run only
through their TaskContext."""

from __future__ import annotations

import ast
import pathlib

import pytest

from modstudio.learn.strategies import STRATEGIES, make_strategy
from modstudio.project import strategy_specs
from modstudio.project.strategy_specs import StrategyError

STRATEGY_FILES = sorted(pathlib.Path(__file__).parents[2].joinpath("modstudio/learn/strategies").glob("*.py"))


def test_every_built_in_spec_has_its_class_and_every_class_its_spec():
    assert list(STRATEGIES) and set(STRATEGIES) == set(strategy_specs.names())
    for name, cls in STRATEGIES.items():
        assert cls.spec is strategy_specs.get(name)
        assert make_strategy(name).params == cls.spec.defaults()


def test_parameters_are_checked_and_normalised_by_the_spec():
    ewc = strategy_specs.get("ewc")
    assert ewc.check_params({"lambda": 5000, "fisher_batch": 8.0}) == {"lambda": 5000.0, "fisher_batch": 8}
    assert strategy_specs.get("expansion").check_params({"warm_start": 0}) == {"warm_start": False}
    for params, message in (({"lambda": float("inf")}, "finite number"), ({"lambda": "big"}, "finite number"),
                            ({"gamma": 2}, "above the maximum 1"), ({"fisher_batch": 1.5}, "whole number"),
                            ({"alpha": 1}, "ewc has no parameter 'alpha'"), ("abc", "object of name")):
        with pytest.raises(StrategyError, match=message):
            ewc.check_params(params)


def test_strategy_files_reach_the_run_only_through_their_context():
    """No strategy touches the trainer or the network's private state: the TaskContext is the contract."""
    for path in STRATEGY_FILES:
        tree = ast.parse(path.read_text(encoding="utf-8"))
        touched = {node.attr for node in ast.walk(tree) if isinstance(node, ast.Attribute)}
        assert not touched & {"trainer", "_trainer", "_resolved"}, path.name
        imported = {alias.name for node in ast.walk(tree) if isinstance(node, ast.ImportFrom)
                    for alias in node.names} | {node.module for node in ast.walk(tree)
                                                if isinstance(node, ast.ImportFrom)}
        assert "modstudio.learn.trainer" not in imported and "Trainer" not in imported, path.name
