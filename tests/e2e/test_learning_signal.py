"""The training signal pushes the policy the right way: reward rises in a few steps of the real trainer.

Unit tests check each piece (estimator, mask, reward); this test checks that together they teach. It runs
``python -m askrl.train recipe=askmind_grpo`` on the CPU profile -- VERL's trainer, askrl's clarify loop (two
turns: a turn, the simulated user's reply, a final turn), the lexical judge and ``askrl_turn_grpo`` -- on a task
built so that a random policy can learn it in a dozen steps: every item's expected answer is the word "axis", and
the final turn is graded correct when it contains it as a whole word (``+1``, else ``-1``). Nothing is faked inside
the run. The policy is the tiny model with one token added, " axis " (``paid_word_policy``: its spaces make every
sampled copy a whole word), sampled before the turn ends in about a fifth of final turns.

Why that policy: the plain tiny model wrote the old paid word "13" in 2 % of final turns, most GRPO groups were
all wrong, and the test failed about half its runs (stop 26's CI among them: 0.01 -> 0.01). Raising a plain
"axis" token did not work either: glued to its random neighbours it is rarely a whole word, and raising the space
beside it made whitespace-only turns, which the empty-turn guard punishes, so the run first learned to write fewer
spaces and the rate fell to 0 (issue 19's note).

Measured at lr 5e-3 on 2 cores, 14 steps, 93-100 s each: final-correct rate 0.19, 0.22, 0.25 ... 0.41, 0.62, 0.56
and 0.09, 0.34, 0.22 ... 0.44, 0.47, 0.78 (first three steps 0.22 -> last three 0.53 and 0.56; the test wants
+0.15). Each of these breakages, made on purpose, failed it (issue 19 note):
- the advantage's sign flipped (``reward/advantages.py``): the rate fell, 0.25 -> 0.00 by step 6;
- the response mask moved from each policy turn onto the user's reply after it (``ClarifyAgentLoop._user``):
  episodes stop after one turn (mean turns 1.0);
- the user's reply tokens trained on (mask 1 on the reply): ``rollout/user_sim_tokens``, the response tokens
  outside the loss mask, is 0, and the rate stayed flat (0.17 -> 0.21).
"""

from __future__ import annotations

import os
import sys
from pathlib import Path

import pandas as pd
import pytest

from askrl.bench.trainer_modes import policy_copy, read_steps
from askrl.data.records import AskMindRecord
from askrl.data.verl_rows import records_to_rows

pytestmark = [pytest.mark.slow, pytest.mark.timeout(420)]

STEPS = 14
ANSWER = "axis"
#: The one token the policy is paid for: added to the tokenizer with its spaces, so that the lexical judge's
#: whole-word match holds wherever it is sampled (a plain "axis" token glued to its random neighbours is no word).
PAID_TOKEN = f" {ANSWER} "
FEATURE, FEATURE_VALUE = 0, 10.0
#: Added to each token's ``FEATURE`` entry; its logit over the rest rises by sqrt(hidden size) times that
#: (``paid_word_policy``): the paid token comes before the turn's end in about a fifth of turns, and "<|im_end|>"
#: (id 2) doubles the stop rate of the policy copy's 40 end-of-sequence ids so that few turns reach their cap.
PAID_BOOST, END_BOOST = 0.29, 0.326
QUESTIONS = [  # (degraded question, hidden fact, what to ask for)
    ("Which line does the point lie on?", "The point lies on the axis.", "Ask where the point lies"),
    ("What did I draw first?", "I drew the axis first.", "Ask what was drawn first"),
    ("What does the label name?", "The label names the axis.", "Ask what the label names"),
    ("Where is the marker placed?", "The marker sits on the axis.", "Ask where the marker sits"),
]


def paid_word_policy(tiny_model: Path, out: Path) -> Path:
    """``policy_copy`` of the tiny model with the paid token added and sampled at a rate GRPO can work with.

    How: input-embedding column ``FEATURE`` is ``FEATURE_VALUE`` for every token, which dominates the residual
    stream at every position: after the final RMSNorm that coordinate is about sqrt(hidden size) and the rest are
    small, so the policy is close to a unigram model whose logits are ``sqrt(128) * E[t, FEATURE]`` (embeddings are
    tied). The paid token and the end token get ``FEATURE_VALUE`` plus their boost; everything the trainer updates
    can move them. The loop, the judge and the trainer see an ordinary Qwen2 checkpoint and its tokenizer.
    """
    import torch
    from transformers import AddedToken, AutoModelForCausalLM, AutoTokenizer

    policy_copy(tiny_model, out)
    tokenizer = AutoTokenizer.from_pretrained(out)
    tokenizer.add_tokens([AddedToken(PAID_TOKEN, normalized=False)])
    tokenizer.save_pretrained(out)
    model = AutoModelForCausalLM.from_pretrained(out, dtype=torch.float32)
    model.resize_token_embeddings(len(tokenizer), mean_resizing=False)
    with torch.no_grad():
        embed = model.get_input_embeddings().weight
        embed[:, FEATURE] = FEATURE_VALUE
        embed[tokenizer.convert_tokens_to_ids(PAID_TOKEN), FEATURE] += PAID_BOOST
        embed[tokenizer.eos_token_id, FEATURE] += END_BOOST
    model.save_pretrained(out)
    return out


def task_rows() -> list[dict]:
    records = [
        AskMindRecord(id=f"signal-{i}", ori_question=f"{fact} {question}", expected_answer=ANSWER,
                      degraded_question=question, degraded_info=fact, required_points=[point],
                      source_task="askrl_learning_signal")
        for i, (question, fact, point) in enumerate(QUESTIONS)
    ]
    return records_to_rows(records)


#: The paper's table with the cost of not knowing a fact made equal for every turn count: a useless question costs
#: ``no_hit`` (-1), an answer given while the fact is missing costs ``premature_answer`` (-1) whether it ends turn 1
#: or comes on the final turn (there ``premature - no_hit`` = 0 is added after the useless turn-1 question), so
#: answering at turn 1 and asking-then-answering earn the same (correct 0, wrong -2). The shipped tables rightly
#: punish stalling, which a random policy that cannot ask would learn first (fewer turns, no user reply to keep
#: out of the loss); this one leaves one thing to learn, the word the final turn is paid for.
SIGNAL_TABLE = """\
name: learning_signal
description: paper_v1 with equal costs of a missing fact at every turn count (tests/e2e/test_learning_signal.py)
nonfinal: {premature_answer: -1.0, no_hit: -1.0, some_hit: 0.0, all_hit: 1.0}
final: {still_asking: -2.0, wrong: -1.0, correct: 1.0}
redundancy: {penalty: 0.0, credit_resolved_hits: true}
judge_failure_penalty: {nonfinal: -0.8, final: -1.0}
guards:
  empty: {nonfinal: -2.0, final: -1.0}
  truncated: {nonfinal: -2.0, final: -1.0}
  think_only: {nonfinal: -2.0, final: -1.0}
  no_checklist: -2.0
"""


def test_reward_rises_under_turn_grpo_in_the_clarify_loop(tiny_model: Path, tmp_path: Path, run_bounded) -> None:
    table = tmp_path / "learning_signal.yaml"
    table.write_text(SIGNAL_TABLE)
    train = tmp_path / "train.parquet"
    pd.DataFrame(task_rows()).to_parquet(train)
    run_dir = tmp_path / "run"
    overrides = [
        "recipe=askmind_grpo",
        "profile=cpu",
        "askrl.data.source=null",
        f"data.train_files={train}",
        f"data.val_files={train}",
        f"actor_rollout_ref.model.path={paid_word_policy(tiny_model, tmp_path / 'policy')}",
        "askrl.rollout.max_turns=2",
        f"askrl.reward.table={table}",
        "+askrl.reward.allow_audit_violations=true",  # equal costs at every turn count break the audit on purpose
        "askrl.cpu.max_tokens_per_turn=24",
        "+askrl.rollout.user_reply_max_tokens=24",
        "askrl.cpu.max_prompt_length=64",
        "askrl.cpu.max_response_length=224",  # two turns, a reply and the 83-token force-final text,
        "askrl.cpu.eval_suites=[]",
        f"askrl.cpu.total_training_steps={STEPS}",
        "data.train_batch_size=4",
        "askrl.cpu.rollout_n=8",
        "actor_rollout_ref.actor.ppo_mini_batch_size=2",
        "actor_rollout_ref.actor.ppo_micro_batch_size_per_gpu=8",
        "actor_rollout_ref.actor.optim.lr=5e-3",
        "trainer.save_freq=-1",
        "trainer.logger=[console]",
        f"trainer.default_local_dir={run_dir}",
    ]
    code, wall_s = run_bounded([sys.executable, "-m", "askrl.train", *overrides],
                               env={**os.environ, "PYTHONUNBUFFERED": "1"}, timeout_s=400, log=tmp_path / "train.log")
    log = (tmp_path / "train.log").read_text()
    assert code == 0, log[-6000:]
    steps = read_steps(run_dir)
    assert len(steps) == STEPS, log[-3000:]
    correct = [s["reward/final_correct_rate"] for s in steps]
    print(f"learning signal: {wall_s:.0f}s, final-correct rate per step {[round(c, 2) for c in correct]}")

    # episodes reached the user's reply and the final turn, and the reply stayed out of the loss mask
    assert sum(s["rollout/num_turns/mean"] for s in steps) / STEPS >= 1.5, [s["rollout/num_turns/mean"] for s in steps]
    assert all(s["rollout/user_sim_tokens/mean"] > 0 for s in steps), [s["rollout/user_sim_tokens/mean"] for s in steps]
    # the reward rises: the last three steps against the first three (32 episodes a step; measured runs rose 0.31-0.48)
    first, last = sum(correct[:3]) / 3, sum(correct[-3:]) / 3
    assert last >= first + 0.15, f"final-correct rate {first:.2f} -> {last:.2f}: {correct}"
    reward = [s["reward/episode/mean"] for s in steps]
    assert sum(reward[-3:]) / 3 > sum(reward[:3]) / 3, reward
