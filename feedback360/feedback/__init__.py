"""Feedback requests, nominations, invitations and anonymous responses."""
