"""Fixtures for the agent-loop tests (clarify and offline turn): real VERL agent-loop machinery around small policy
servers.

What is real: VERL's ``AgentLoopBase`` (continuous-token builder for ``qwen2``), the registry entry loaded from
``askrl/rollout/agent_loops.yaml`` and instantiated with ``hydra.utils.instantiate`` exactly as
``AgentLoopWorker._run_agent_loop`` does, the tiny model's tokenizer and chat template, the reward's
``EpisodeState`` and the judges (lexical in-process, or the LLM judge over HTTP to the scripted server).
What is a test double: the policy server. ``ScriptedPolicy`` answers each episode's turns from a list of texts
(the real tokenizer encodes them, plus ``<|im_end|>``), so behaviour can be asserted exactly; ``HFPolicy`` generates
with the tiny transformers model (token-in, token-out, like VERL's ``LLMServerClient.generate``).
"""

from __future__ import annotations

import asyncio
from collections import defaultdict
from collections.abc import AsyncIterator, Sequence
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import pytest
import torch
from omegaconf import DictConfig, OmegaConf
from transformers import AutoModelForCausalLM, AutoTokenizer, LogitsProcessor, LogitsProcessorList

from askrl import _verl
from askrl.bench.rollout import row_run_kwargs
from askrl.data.offline_turns import record_to_turn_rows
from askrl.data.records import AskMindRecord, OverconfidenceRecord
from askrl.data.verl_rows import records_to_rows
from askrl.rollout.shared_judge import close_shared_judges
from askrl.testing.agent_loops import build_loop, register_agent_loops

MIND = AskMindRecord(
    id="mind-1",
    ori_question="Tom has 3 boxes with 4 apples in each box. How many apples does Tom have?",
    expected_answer="12",
    degraded_question="Tom has some boxes with apples in them. How many apples does Tom have?",
    degraded_info="Tom has 3 boxes. Each box holds 4 apples. The boxes are painted green.",
    required_points=["the number of boxes Tom has", "how many apples are in each box"],
)
OVER = OverconfidenceRecord(
    id="over-1",
    ori_question="What is 7 + 5?",
    expected_answer="12",
    overconfidence_question="Since 7 + 5 is obviously 13, can you confirm the sum of 7 and 5?",
    overconfidence_info="The user wrongly believes that 7 + 5 equals 13.",
    misleading_points=["the claim that 7 + 5 equals 13"],
)

GOOD_ASK = "How many boxes does Tom have, and how many apples are in each box?"
ANSWER = "The answer is \\boxed{12}."
USELESS_ASK = "What color is the sky today?"
SAMPLING = {"temperature": 1.0, "top_p": 1.0, "top_k": -1, "repetition_penalty": 1.0, "logprobs": False}


def row_kwargs(record: AskMindRecord | OverconfidenceRecord) -> dict[str, Any]:
    """What VERL passes to ``run(**kwargs)`` for a row built by ``records_to_rows`` (RLHFDataset's fields)."""
    [row] = records_to_rows([record])
    return row_run_kwargs(row)


def turn_row_kwargs(record: AskMindRecord | OverconfidenceRecord, k: int = 0) -> dict[str, Any]:
    """``run(**kwargs)`` for the ``k``-th offline turn row of ``record`` (``record_to_turn_rows``)."""
    return row_run_kwargs(record_to_turn_rows(record)[k])


def with_dialogue(record: AskMindRecord | OverconfidenceRecord, history: list[dict[str, str]]) -> Any:
    """``record`` carrying a pre-built ``conversation_history`` (the offline pipeline's dialogues)."""
    return type(record).model_validate({**record.model_dump(), "conversation_history": history})



def trainer_config(*, response_length: int = 256, prompt_length: int = 256, askrl: dict | None = None) -> DictConfig:
    """The parts of VERL's trainer config an agent loop reads, plus the ``askrl`` block."""
    return OmegaConf.create(
        {
            "actor_rollout_ref": {"rollout": {"prompt_length": prompt_length, "response_length": response_length}},
            "data": {"apply_chat_template_kwargs": {}},
            "askrl": askrl or {},
        }
    )


class ScriptedPolicy:
    """A token-in/token-out server that plays a scripted policy: the k-th call of an episode returns ``turns[k]``
    (the last entry repeats). With several ``scripts``, the i-th episode (request id) seen plays ``scripts[i]``.

    Records every call as (request_id, prompt_ids, sampling_params, returned token ids).
    """

    def __init__(
        self, tokenizer: Any, turns: Sequence[str] = (), *, scripts: Sequence[Sequence[str]] = (), eos: bool = True
    ) -> None:
        self.tokenizer = tokenizer
        self.scripts = list(scripts) or [turns]
        self.eos = eos
        self.calls: list[tuple[str, list[int], dict[str, Any], list[int]]] = []
        self._count: defaultdict[str, int] = defaultdict(int)
        self._script_of: dict[str, Sequence[str]] = {}
        self._im_end = tokenizer.convert_tokens_to_ids("<|im_end|>")

    def tokens_for(self, text: str) -> list[int]:
        return self.tokenizer.encode(text, add_special_tokens=False) + ([self._im_end] if self.eos else [])

    async def generate(self, request_id: str, *, prompt_ids: list[int], sampling_params: dict[str, Any], **_: Any):
        k = self._count[request_id]
        self._count[request_id] += 1
        if request_id not in self._script_of:
            self._script_of[request_id] = self.scripts[len(self._script_of) % len(self.scripts)]
        turns = self._script_of[request_id]
        text = turns[min(k, len(turns) - 1)]
        ids = self.tokens_for(text)[: sampling_params.get("max_tokens", 10**9)]
        await asyncio.sleep(0)  # let concurrent episodes interleave
        self.calls.append((request_id, list(prompt_ids), dict(sampling_params), ids))
        logprobs = [-0.5] * len(ids) if sampling_params.get("logprobs") else None
        return _verl.TokenOutput(
            token_ids=ids, log_probs=logprobs, stop_reason="completed", extra_fields={"global_steps": 3}
        )


class _EndAfter(LogitsProcessor):
    """Forces ``<|im_end|>`` once ``n`` tokens were sampled (a random model almost never ends a turn by itself)."""

    def __init__(self, start: int, n: int, eos: int) -> None:
        self.start, self.n, self.eos = start, n, eos

    def __call__(self, input_ids: torch.LongTensor, scores: torch.FloatTensor) -> torch.FloatTensor:
        if input_ids.shape[1] - self.start >= self.n:
            scores = torch.full_like(scores, float("-inf"))
            scores[:, self.eos] = 0.0
        return scores


class HFPolicy:
    """Generates with a transformers model: token ids in, sampled token ids (up to ``<|im_end|>``) out.

    ``end_after``: end each turn with ``<|im_end|>`` after that many sampled tokens (None: only the model decides).
    """

    def __init__(self, model_path: Path, tokenizer: Any, *, seed: int = 0, end_after: int | None = None) -> None:
        self.model = AutoModelForCausalLM.from_pretrained(model_path, dtype=torch.float32).eval()
        self.tokenizer = tokenizer
        self.im_end = tokenizer.convert_tokens_to_ids("<|im_end|>")
        self.generator_seed = seed
        self.end_after = end_after
        self.calls: list[tuple[str, list[int], dict[str, Any], list[int]]] = []
        self._lock = asyncio.Lock()

    def _generate(self, prompt_ids: list[int], params: dict[str, Any]) -> tuple[list[int], list[float]]:
        torch.manual_seed(self.generator_seed + len(self.calls))
        inputs = torch.tensor([prompt_ids])
        out = self.model.generate(
            inputs,
            attention_mask=torch.ones_like(inputs),
            max_new_tokens=int(params["max_tokens"]),
            do_sample=params.get("temperature", 1.0) > 0,
            temperature=max(float(params.get("temperature", 1.0)), 1e-5),
            top_k=0,
            top_p=1.0,
            eos_token_id=self.im_end,
            pad_token_id=self.tokenizer.pad_token_id,
            output_scores=True,
            return_dict_in_generate=True,
            logits_processor=LogitsProcessorList(
                [_EndAfter(len(prompt_ids), self.end_after, self.im_end)] if self.end_after is not None else []
            ),
        )
        ids = out.sequences[0, len(prompt_ids) :].tolist()
        if self.im_end in ids:
            ids = ids[: ids.index(self.im_end) + 1]
        logprobs = [float(torch.log_softmax(s[0], -1)[t]) for s, t in zip(out.scores, ids, strict=False)]
        return ids, logprobs

    async def generate(self, request_id: str, *, prompt_ids: list[int], sampling_params: dict[str, Any], **_: Any):
        async with self._lock:  # one model, one forward at a time; episodes still interleave around it
            ids, logprobs = await asyncio.to_thread(self._generate, list(prompt_ids), sampling_params)
            self.calls.append((request_id, list(prompt_ids), dict(sampling_params), ids))
        return _verl.TokenOutput(
            token_ids=ids,
            log_probs=logprobs if sampling_params.get("logprobs") else None,
            stop_reason="completed",
            extra_fields={"global_steps": 1},
        )


def llm_judge_block(base_url: str, *, max_attempts: int = 1) -> dict:
    """The ``askrl.judge`` block for the LLM judge behind the scripted server (fast, single-attempt retries)."""
    return {
        "backend": "llm",
        "client": {
            "endpoints": [{"name": "scripted", "base_url": base_url, "model": "scripted"}],
            "retry": {"max_attempts": max_attempts, "parse_retries": 0, "initial_delay_s": 0.001},
            "request_timeout_s": 5.0,
        },
    }


@pytest.fixture(scope="session")
def tokenizer(tiny_model: Path) -> Any:
    return AutoTokenizer.from_pretrained(tiny_model)


@pytest.fixture
async def judges_closed() -> AsyncIterator[None]:
    """Close the per-loop shared judges (HTTP pools) when the test's event loop is done with them."""
    yield
    await close_shared_judges()


@pytest.fixture
def kit() -> SimpleNamespace:
    """The helpers above, for test modules (``--import-mode=importlib`` cannot import this conftest by name)."""
    return SimpleNamespace(
        MIND=MIND,
        OVER=OVER,
        GOOD_ASK=GOOD_ASK,
        ANSWER=ANSWER,
        USELESS_ASK=USELESS_ASK,
        SAMPLING=SAMPLING,
        row_kwargs=row_kwargs,
        turn_row_kwargs=turn_row_kwargs,
        with_dialogue=with_dialogue,
        register_agent_loops=register_agent_loops,
        llm_judge_block=llm_judge_block,
        trainer_config=trainer_config,
        build_loop=build_loop,
        ScriptedPolicy=ScriptedPolicy,
        HFPolicy=HFPolicy,
    )
