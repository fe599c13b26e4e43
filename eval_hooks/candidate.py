"""The model under test, behind any OpenAI-compatible chat endpoint (vLLM, ``askrl.serve model``, a hosted API).

Every path (multi-turn dialogues and single-turn QA) goes through ``Candidate.reply``, so the settings apply
everywhere (spec §7.4: the original dropped the system prompt on its multi-turn path): the system prompt is
prepended, ``temperature``/``top_p``/``max_tokens``/``seed`` are sent, and the text up to the last ``</think>`` is
cut off (reasoning models). Concurrency is one semaphore for the endpoint; each request is retried by the
``openai`` client (``max_retries``) on connection errors, 408/409/429 and 5xx.

How it fails: ``CandidateError`` after the retries, never a sentinel reply (spec §7.3: the original appended
"Error" to the dialogue and judged it).

    async with Candidate(CandidateSettings(), base_url="http://127.0.0.1:8000/v1", model="default") as cand:
        reply = await cand.reply([{"role": "user", "content": "2+2?"}])   # Reply(text=..., latency_s=...)
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import openai
from pydantic import BaseModel, ConfigDict, Field

from askrl.errors import EvalError
from eval_hooks.conversation import Message


class CandidateError(EvalError):
    """The candidate endpoint did not produce a reply after its retries."""


class CandidateSettings(BaseModel):
    """Sampling and prompting of the model under test (spec §6.1 defaults: temperature 0.7, top_p 0.8)."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    temperature: float = Field(0.7, ge=0, le=2)
    top_p: float = Field(0.8, gt=0, le=1)
    max_tokens: int = Field(4096, ge=1)
    system_prompt: str | None = None
    """Prepended as a system message on every path (the Self-Alert baseline is a system prompt)."""
    strip_think: bool = True
    """Keep only the text after the last ``</think>`` (the dialogue and the graders see the answer only)."""
    seed: int | None = None
    """Sent with every request (plus the attempt index), for servers that honour it."""
    request_timeout_s: float = Field(600.0, gt=0)
    max_retries: int = Field(3, ge=0)


@dataclass(frozen=True)
class Reply:
    text: str
    raw: str
    finish_reason: str | None
    latency_s: float
    completion_tokens: int


def strip_think(text: str) -> str:
    """The part after the last ``</think>`` (the whole text when there is none), stripped."""
    return text.rsplit("</think>", 1)[-1].strip()


class Candidate:
    """Chat calls to one endpoint under one concurrency limit."""

    def __init__(self, settings: CandidateSettings, *, base_url: str, model: str, concurrency: int) -> None:
        self.settings = settings
        self.model = model
        self.base_url = base_url
        self._semaphore = asyncio.Semaphore(concurrency)
        self._client = openai.AsyncOpenAI(
            api_key="EMPTY",
            base_url=base_url,
            max_retries=settings.max_retries,
            timeout=openai.Timeout(settings.request_timeout_s, connect=10.0),
        )
        self.calls = 0
        self.failures = 0

    async def __aenter__(self) -> Candidate:
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.aclose()

    async def aclose(self) -> None:
        await self._client.close()

    def messages(self, conversation: Sequence[Message]) -> list[dict[str, str]]:
        system = [{"role": "system", "content": self.settings.system_prompt}] if self.settings.system_prompt else []
        return system + [{"role": m["role"], "content": m["content"]} for m in conversation]

    async def reply(self, conversation: Sequence[Message], *, attempt: int = 0) -> Reply:
        """One assistant reply to ``conversation``.

        Raises:
            CandidateError: the endpoint failed after its retries, or answered without a message.
        """
        s = self.settings
        body: dict[str, Any] = {
            "model": self.model,
            "messages": self.messages(conversation),
            "temperature": s.temperature,
            "top_p": s.top_p,
            "max_tokens": s.max_tokens,
        }
        if s.seed is not None:
            body["seed"] = s.seed + attempt
        async with self._semaphore:
            self.calls += 1
            start = time.monotonic()
            try:
                # The SDK's raw ``post`` (same auth, retries, timeouts and typed errors as ``chat.completions.create``)
                # skips re-walking the params and building a ChatCompletion model: ~5 ms of CPU a call at 100 in
                # flight, which is what bounds a 2-core machine.
                data = await self._client.post("/chat/completions", body=body, cast_to=object)
            except (openai.OpenAIError, ValueError) as err:
                self.failures += 1
                raise CandidateError(f"candidate {self.base_url} ({self.model}): {type(err).__name__}: {err}") from err
            latency = time.monotonic() - start
        try:
            choice = data["choices"][0]  # type: ignore[index]
            raw = choice["message"]["content"] or ""
        except (KeyError, IndexError, TypeError) as err:
            self.failures += 1
            raise CandidateError(f"candidate {self.base_url} ({self.model}) answered without a message") from err
        text = strip_think(raw) if s.strip_think else raw
        usage = data.get("usage") or {}  # type: ignore[union-attr]
        return Reply(text=text, raw=raw, finish_reason=choice.get("finish_reason"), latency_s=latency,
                     completion_tokens=int(usage.get("completion_tokens") or 0))  # fmt: skip
