"""Coaches: their coachees, released reports and debriefs."""
