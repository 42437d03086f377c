"""The graph: nodes and edges, compiled with a checkpointer so every learner can resume."""

from __future__ import annotations

import functools
from collections.abc import Callable
from typing import Any

from langgraph.checkpoint.base import BaseCheckpointSaver
from langgraph.graph import START, StateGraph
from langgraph.graph.state import CompiledStateGraph

from tutor.graph import nodes, routing
from tutor.graph.state import Context, TutorState

Node = Callable[..., dict[str, Any]]


class UndeclaredStateKey(RuntimeError):
    """A node returned a key TutorState does not declare (LangGraph would drop it without a word)."""


def declared_only(node: Node) -> Node:
    """`node`, refusing an update with a key TutorState does not declare. LangGraph silently drops such keys, so a
    flag set by one branch's node and missing from the state (as `awaiting_review` once was) changes routing
    quietly: that sent unsure free-text answers to the gate, which then wrote decisions on other questions."""
    declared = frozenset(TutorState.__annotations__)

    @functools.wraps(node)
    def checked(*args: Any, **kwargs: Any) -> dict[str, Any]:
        update = node(*args, **kwargs)
        unknown = sorted(set(update or {}) - declared)
        if unknown:
            raise UndeclaredStateKey(f"node {node.__name__} returned {unknown}, which TutorState does not declare; "
                                     "declare them in tutor/graph/state.py")
        return update

    return checked


NODES: dict[str, Callable[..., Any]] = {
    "pick_skill": nodes.pick_skill, "explain": nodes.explain, "remediate": nodes.remediate, "ask": nodes.ask,
    "wait": nodes.wait, "hint": nodes.hint, "skip": nodes.skip, "status": nodes.status,
    "answer_question": nodes.answer_question, "grade": nodes.grade, "gate": nodes.decide, "review": nodes.review,
}
"""The graph's nodes by name (each wrapped by `declared_only` when added)."""


def build_graph() -> StateGraph[TutorState, Context, TutorState, TutorState]:
    """pick_skill -> explain | remediate -> ask -> wait -> grade -> gate | review -> ask | pick_skill.

    A finished course waits too: questions are answered, and anything else looks for a review that is due.

    wait also routes to hint, skip, status and answer_question, which come back to wait (or ask, for skip).
    """
    graph = StateGraph(TutorState, context_schema=Context)
    for name, node in NODES.items():
        graph.add_node(name, declared_only(node))

    graph.add_edge(START, "pick_skill")
    graph.add_conditional_edges(
        "pick_skill", routing.after_pick, {"explain": "explain", "remediate": "remediate", "ask": "ask", "wait": "wait"}
    )
    graph.add_edge("explain", "ask")
    graph.add_edge("remediate", "ask")
    graph.add_edge("ask", "wait")
    graph.add_conditional_edges("wait", routing.after_wait)
    graph.add_edge("hint", "wait")
    graph.add_edge("status", "wait")
    graph.add_edge("answer_question", "wait")
    graph.add_edge("skip", "ask")
    graph.add_conditional_edges("grade", routing.after_grade)
    graph.add_conditional_edges("gate", routing.after_gate)
    graph.add_edge("review", "pick_skill")
    return graph


TutorGraph = CompiledStateGraph[TutorState, Context, TutorState, TutorState]


def compile_graph(checkpointer: BaseCheckpointSaver[Any]) -> TutorGraph:
    return build_graph().compile(checkpointer=checkpointer)
