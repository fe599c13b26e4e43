"""askrl: teach LLMs when and what to ask, with multi-turn rubric-rewarded RL on VERL 0.9.1.

Subpackages: ``askrl.data`` (AskBench records, loaders, VERL rows), ``askrl.models`` (offline small models),
``askrl.judge`` (async judge client), ``askrl.cpu`` (VERL's trainer on CPU), ``askrl.rollout`` (multi-turn
agent loop). The rubric reward lives in the top-level ``reward`` package and evaluation in ``eval_hooks``.
"""

__version__ = "0.1.0"
