"""Intake: forms, lead emails and missed calls become one lead record and a first touch."""
