"""Evaluation: AskBench (multi-turn judge loop) and the QA benchmarks, per-checkpoint evaluation, merge and serve.

Reserved for the evaluation issue; nothing here yet. The pieces it will build on exist: ``askrl.data`` loads every
AskBench and QA file, ``askrl.judge`` grades and simulates the user, ``askrl.serve`` starts vLLM servers, and
``trainer.checkpoint_callback_class`` is VERL 0.9.1's hook after each save.
"""
