"""Execution engines: where compiled SQL runs."""
