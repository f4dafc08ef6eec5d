"""Pieces of the lead-email parser: MIME reading, labelled fields, and the portal formats."""
