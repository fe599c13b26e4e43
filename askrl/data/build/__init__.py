"""Data construction: turn any QA set into AskMind / AskOverconfidence records with an LLM, through quality gates.

``python -m askrl.data build`` (``cli``) runs ``runner.run_build``: validated input (``inputs``), optional
pass-rate sampling and balancing (``difficulty``), one coroutine per item (``pipeline``: generation, the gates of
``gates`` and ``dedup``, optional offline ``trajectory``), streamed, resumable files (``store``) and a report
(``report``). Every LLM call goes through askrl's judge client (``llm``), with prompts as versioned template
files (``templates``, ``prompts/``) and strict reply schemas (``schemas``).
"""
