"""Pronto gateway: channels, queue, pipeline, handoff and escalation for speed-to-lead."""

__version__ = "0.1.0"
