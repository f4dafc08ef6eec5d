"""Pronto's Rasa action server: form validation, normalisation, lead score and handoff."""
