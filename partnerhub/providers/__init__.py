"""Typed HTTP clients for the providers; they know nothing of Django models."""
