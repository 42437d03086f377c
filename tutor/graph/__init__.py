"""The tutor's LangGraph state machine: explain -> assess -> grade -> gate -> advance | practice | remediate."""
