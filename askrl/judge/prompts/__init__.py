"""Versioned judge and user-simulator prompt templates (``<name>_v<N>.txt``), read by ``askrl/judge/templates.py``.

A package only so that setuptools ships the ``.txt`` files (package-data); it holds no code.
"""
