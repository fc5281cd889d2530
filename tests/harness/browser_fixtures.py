"""Fixtures: see the module docstring of the harness it wraps."""
