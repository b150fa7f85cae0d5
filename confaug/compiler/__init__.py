"""Compiling a valid spec into a runnable pipeline (layer 3)."""
