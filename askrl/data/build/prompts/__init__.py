"""Versioned prompt templates of the data builder (``<name>_<version>.txt``; never edit a released file)."""
