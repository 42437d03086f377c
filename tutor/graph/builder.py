"""The graph: nodes and edges, compiled with a checkpointer so every learner can resume."""

from __future__ import annotations

from typing import Any

from langgraph.checkpoint.base import BaseCheckpointSaver
from langgraph.graph import START, StateGraph
from langgraph.graph.state import CompiledStateGraph

from tutor.graph import nodes, routing
from tutor.graph.state import Context, TutorState


def build_graph() -> StateGraph[TutorState, Context, TutorState, TutorState]:
    """pick_skill -> explain | remediate -> ask -> wait -> grade -> gate | review -> ask | pick_skill.

    A finished course waits too: questions are answered, and anything else looks for a review that is due.

    wait also routes to hint, skip, status and answer_question, which come back to wait (or ask, for skip).
    """
    graph = StateGraph(TutorState, context_schema=Context)
    graph.add_node("pick_skill", nodes.pick_skill)
    graph.add_node("explain", nodes.explain)
    graph.add_node("remediate", nodes.remediate)
    graph.add_node("ask", nodes.ask)
    graph.add_node("wait", nodes.wait)
    graph.add_node("hint", nodes.hint)
    graph.add_node("skip", nodes.skip)
    graph.add_node("status", nodes.status)
    graph.add_node("answer_question", nodes.answer_question)
    graph.add_node("grade", nodes.grade)
    graph.add_node("gate", nodes.decide)
    graph.add_node("review", nodes.review)

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
