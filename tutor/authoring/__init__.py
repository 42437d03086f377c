"""Authoring help for content teams: drafts awaiting approval, drafting with Claude, and coverage."""
