"""Evaluation: AskBench (multi-turn judge loop) and the QA benchmarks, per-checkpoint evaluation, merge and serve.

The evaluator (``python -m eval_hooks.run``, or ``eval_hooks.engine.evaluate(EvalSpec)``) runs any
OpenAI-compatible model on the suites of ``eval_hooks.suites`` and writes ``OUT/<suite>/results.jsonl``,
``OUT/summary.json`` and ``OUT/summary.md``; ``python -m eval_hooks.compare`` puts runs side by side. Modules:
``engine`` (scheduling, resume, summary), ``dialogue`` (one AskBench dialogue), ``qa`` (single-turn suites),
``metrics``, ``judges`` / ``lexical`` (LLM and offline judge), ``candidate`` (the model under test),
``results`` (the per-suite store), ``run_config`` (``summary.json``'s settings block, exit code 3), ``templates`` + ``prompts/`` (versioned arbiter, user and grader prompts).
Checkpoint evaluation during training builds on it in ``eval_hooks.checkpoint`` (callback, per-checkpoint run,
merge, history, provenance), which imports the evaluator and is never imported by it; ``askrl.serve model`` serves
a checkpoint for it.
"""
