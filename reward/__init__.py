"""The turn-level rubric reward (AskBench, arXiv 2602.11199 §4): judge verdicts → rewards, as VERL components.

Network only through ``askrl.judge``; VERL only through ``askrl._verl``. Modules, by what they do:

- ``table``: the reward table (``tables/paper_v1.yaml``), its hash and the run fingerprint;
- ``config``: ``RewardConfig`` (table, ``on_judge_failure: mask|penalize|raise``, think tags, ``overlong``) and
  ``provenance``;
- ``guards``: cheap pre-judge checks (empty, truncated, think-only, no checklist);
- ``rubric``: verdict → reward, with redundancy against already-resolved items;
- ``turn_credit``: how per-turn values combine into a live episode's return (``credit="online"``; the maths);
- ``scoring``: ``score_turn`` / ``score_turns`` (guards, one concurrent judge call per turn, answers on non-final
  turns graded with the final table, failure policy);
- ``outcome``: ``TurnOutcome``, the result of scoring one turn;
- ``episode``: ``EpisodeState`` (multi-turn bookkeeping; resumable from an offline dialogue), ``score_episode(s)``;
- ``placement``: per-turn rewards on each turn's last policy token (``rm_scores``);
- ``masking``: the contract that keeps judge failures out of the loss and the group baseline;
- ``overlong``: DAPO's overlong penalty counted on policy tokens (the agent loops add it to the last turn);
- ``metrics``: ``reward/...`` step metrics;
- ``samples``: the original's offline turn samples → judge requests;
- ``verl_fn``: ``compute_score`` for ``reward.custom_reward_function.path=pkg://reward.verl_fn``;
- ``score``: the ``python -m reward.score`` CLI;
- ``audit``: ``python -m reward.audit``, the canonical strategies through ``EpisodeState`` and both estimators,
  every ordering the reward must respect checked;
- ``guards_config``: pre-launch refusals (no masked placeholder trains; a custom table must pass the audit).

    cfg = RewardConfig()                                   # paper_v1, mask judge failures
    state = EpisodeState(spec, cfg)
    outcome = await state.score_turn(judge, text, is_final_turn=state.next_turn_is_final(max_turns=3))
    state.rm_scores(response_mask), state.reward_extra_info(), turn_metrics(state.outcomes)
"""
