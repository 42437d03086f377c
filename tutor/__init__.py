"""Mastery Tutor: a mastery-learning tutor."""
