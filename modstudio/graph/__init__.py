"""The composition model: the graph a user draws, its catalog of kinds, checking and edit commands.

Pure Python and networkx: importing this never imports Qt or torch.
"""

from modstudio.graph import catalog
from modstudio.graph.check import CheckError, CheckReport, ErrorKind, NodeReport, check
from modstudio.graph.commands import (
    AddNode,
    AutoLayout,
    Command,
    CommandStack,
    Connect,
    Disconnect,
    GroupNodes,
    MoveNodes,
    PasteSubgraph,
    RemoveNodes,
    RenameGroup,
    RenameNode,
    SetParam,
    Ungroup,
)
from modstudio.graph.events import Event, EventGroup
from modstudio.graph.model import ConnectError, Edge, Graph, GraphError, GraphEvents, Node

__all__ = [
    "catalog", "check", "CheckError", "CheckReport", "ErrorKind", "NodeReport",
    "Graph", "Node", "Edge", "GraphError", "ConnectError", "GraphEvents", "Event", "EventGroup",
    "Command", "CommandStack", "AddNode", "RemoveNodes", "Connect", "Disconnect", "MoveNodes",
    "SetParam", "RenameNode", "GroupNodes", "Ungroup", "RenameGroup", "PasteSubgraph", "AutoLayout",
]
