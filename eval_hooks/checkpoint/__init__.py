"""Evaluation during training: every saved checkpoint evaluated by the evaluator of ``eval_hooks``.

Who calls it: VERL's trainer, through ``trainer.checkpoint_callback_class`` (``callback``) and askrl's trainer mixin
(``trainer_hooks``, from ``askrl.trainer.hooks``); ``askrl.export`` and ``askrl.train`` read its history and config.
Modules: ``config`` (the typed ``askrl.eval`` block), ``callback`` (``CheckpointEvalCallback``: provenance, then the
evaluation of each save), ``provenance`` (what produced a checkpoint), ``evaluate`` (one checkpoint's evaluation:
the evaluator's command, or merge -> serve -> evaluate), ``worker`` (the ``serve`` backend's background queue),
``merge`` (FSDP checkpoint -> Hugging Face folder, ``python -m eval_hooks.checkpoint.merge``), ``history``
(``<run>/eval/history.jsonl``), ``trainer_hooks`` (step-0 evaluation, waiting for the last one). It imports the
evaluator (``eval_hooks.*``); the evaluator never imports it.
"""
