"""Feedback cycles: when people may ask for and give feedback, and with which rules."""
