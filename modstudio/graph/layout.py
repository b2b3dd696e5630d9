"""A layered left-to-right layout the canvas can use directly (Sugiyama-style, kept simple).

Layer = longest path from a source; order within a layer by the mean position of the
predecessors (barycentre), which removes most crossings in the chain-and-branch graphs
that networks are.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import networkx as nx

if TYPE_CHECKING:
    from modstudio.graph.model import Graph, Position

LAYER_SPACING = 240.0
ROW_SPACING = 130.0


def layered_layout(graph: "Graph", dx: float = LAYER_SPACING, dy: float = ROW_SPACING) -> dict[str, "Position"]:
    """Positions for every node, layers left to right, each layer centred on y = 0."""
    g = graph.to_networkx()
    # Cycles have no layering; lay out an acyclic version that drops back edges.
    if not nx.is_directed_acyclic_graph(g):
        g = _drop_back_edges(g, list(graph.nodes))
    insertion = {node_id: i for i, node_id in enumerate(graph.nodes)}
    order = list(nx.lexicographical_topological_sort(g, key=insertion.__getitem__))
    layer: dict[str, int] = {}
    for node_id in order:
        layer[node_id] = max((layer[p] + 1 for p in g.predecessors(node_id)), default=0)
    layers: dict[int, list[str]] = {}
    for node_id in order:
        layers.setdefault(layer[node_id], []).append(node_id)
    rank: dict[str, float] = {}
    positions: dict[str, Position] = {}
    for index in sorted(layers):
        members = layers[index]

        def barycentre(node_id: str) -> float:
            preds = [rank[p] for p in g.predecessors(node_id) if p in rank]
            return sum(preds) / len(preds) if preds else insertion[node_id]

        members.sort(key=lambda n: (barycentre(n), insertion[n]))
        offset = (len(members) - 1) / 2
        for row, node_id in enumerate(members):
            rank[node_id] = row
            positions[node_id] = (index * dx, (row - offset) * dy)
    return positions


def _drop_back_edges(g: nx.DiGraph, order: list[str]) -> nx.DiGraph:
    acyclic = nx.DiGraph()
    acyclic.add_nodes_from(g)
    state: dict[str, int] = {}
    for root in order:
        if root in state:
            continue
        stack = [(root, iter(g.successors(root)))]
        state[root] = 1
        while stack:
            node, children = stack[-1]
            for child in children:
                if state.get(child) == 1:
                    continue  # back edge: closes a cycle
                acyclic.add_edge(node, child)
                if child not in state:
                    state[child] = 1
                    stack.append((child, iter(g.successors(child))))
                    break
            else:
                state[node] = 2
                stack.pop()
    return acyclic
