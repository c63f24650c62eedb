"""Foundations: settings, errors, clock and names. Imports nothing from the rest of modelport."""
