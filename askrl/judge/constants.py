"""Named defaults of the judge client, in one place so a changed default shows up in review.

Who uses it: ``askrl/judge/config.py`` (field defaults) and the pure retry functions in ``askrl/judge/retry.py``.
Values follow the openai-python client (``_constants.py``) where it has one: backoff from 0.5 s doubling to 8 s with
up to 25 % jitter, a server's ``Retry-After`` honoured up to 120 s. Nothing here is read from the environment.
"""

from __future__ import annotations

#: Seconds to wait for a TCP connection to an endpoint.
CONNECT_TIMEOUT_S = 5.0
#: Seconds one attempt (one HTTP request) may take in total before it counts as a timeout.
REQUEST_TIMEOUT_S = 120.0
#: Seconds a whole call may take: queueing, attempts, backoff and waits for an endpoint to come back. Long enough to
#: ride out a judge restart (several breaker cooldowns), short enough that a judge that is gone stops the run.
CALL_TIMEOUT_S = 300.0

#: Attempts per call that a transport failure (timeout, refused connection, 408/409/429/5xx) may use, first included.
MAX_ATTEMPTS = 4
#: Extra attempts per call for a reply that is not valid JSON or not the verdict schema (a re-ask with a repair note).
PARSE_RETRIES = 1
#: First backoff delay in seconds; it doubles each retry.
INITIAL_RETRY_DELAY_S = 0.5
#: Backoff ceiling in seconds.
MAX_RETRY_DELAY_S = 8.0
#: Fraction of a backoff delay removed at random (0.25: the delay lies in [0.75 d, d]).
RETRY_JITTER_RATIO = 0.25
#: A server's ``Retry-After`` above this many seconds means "do not retry" (as in openai-python).
MAX_RETRY_AFTER_S = 120.0
#: Added to the sampling temperature on a repair re-ask, so it does not resend a prompt that just failed at T=0.
REPAIR_TEMPERATURE_STEP = 0.2

#: Requests in flight over all endpoints of one client.
MAX_CONCURRENCY = 64
#: Requests in flight to one endpoint.
ENDPOINT_MAX_CONCURRENCY = 64

#: Consecutive transport failures that open an endpoint's circuit breaker.
BREAKER_FAILURES = 5
#: Seconds an open breaker keeps its endpoint out before letting one probe request through (calls wait for it; a
#: restarted endpoint is found again within this long).
BREAKER_COOLDOWN_S = 10.0

#: Completion-token cap of a verdict call (verdicts are small JSON objects).
MAX_TOKENS = 1024
#: Sampling temperature of grading calls (the paper's judge runs at 0).
GRADE_TEMPERATURE = 0.0
#: Sampling temperature of the AskMind simulated user (spec §2.3: 0.5).
USER_TEMPERATURE_ASKMIND = 0.5
#: Sampling temperature of the AskOverconfidence simulated user (spec §2.3: 0.3).
USER_TEMPERATURE_OVERCONFIDENCE = 0.3

#: Latencies kept per endpoint (and overall) for the p50/p95 metrics; older ones are dropped.
LATENCY_WINDOW = 10_000
#: Characters of a raw reply kept in ``JudgeResult.raw`` and in log lines.
RAW_TRUNCATE_CHARS = 2_000
#: Rough characters per token, used only to reserve tokens-per-minute budget before the real usage is known.
CHARS_PER_TOKEN_ESTIMATE = 4.0
