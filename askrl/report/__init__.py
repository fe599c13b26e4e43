"""A run's report from its own local files: PNG plots and a ``report.md`` that shows them.

    python -m askrl.report RUN_DIR [--out DIR]     # default DIR: RUN_DIR/report

Reads ``<run dir>/metrics.jsonl`` (one line per training step, written by the trainer hooks) and
``<run dir>/eval/history.jsonl`` (one line per checkpoint evaluation), never wandb, so offline runs get pictures
too. Modules: ``logs`` (reading them), ``plots`` (matplotlib figures), ``build`` (files and markdown).
"""
