"""Clinic intake service: pre-consultation forms, red-flag triage and the reception queue."""
