"""An optional on-disk cache of validated verdicts, keyed by everything that determines a judge reply.

Who uses it: ``JudgeClient`` when ``JudgeClientConfig.cache_dir`` is set. The key is the sha256 of the canonical
JSON of (judge model names, messages, schema name and JSON schema, sampling parameters); the value is the
validated verdict JSON plus the usage it cost. Only verdicts are stored, never failures.

Concurrency: one sqlite connection (WAL mode) guarded by a lock, used from worker threads through
``asyncio.to_thread`` so the event loop never blocks on disk; safe for many coroutines of one process (and,
through sqlite's own locking, for several processes). A corrupt or unreadable row is a miss, logged.

    cache = VerdictCache(Path("~/.cache/askrl/judge"))
    key = cache_key({"model": ..., "messages": ..., "schema": ..., "temperature": 0.0})
    hit = await cache.get(key)          # str (verdict JSON) or None
    await cache.put(key, "TurnVerdict", verdict_json)
"""

from __future__ import annotations

import asyncio
import hashlib
import json
import logging
import sqlite3
import threading
import time
from collections.abc import Mapping
from pathlib import Path
from typing import Any

logger = logging.getLogger(__name__)

_SCHEMA_SQL = """
CREATE TABLE IF NOT EXISTS verdicts (
    key TEXT PRIMARY KEY,
    schema_name TEXT NOT NULL,
    verdict_json TEXT NOT NULL,
    created_s REAL NOT NULL
)
"""


def cache_key(payload: Mapping[str, Any]) -> str:
    """sha256 hex of ``payload`` as canonical JSON (sorted keys, no whitespace)."""
    blob = json.dumps(payload, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    return hashlib.sha256(blob.encode("utf-8")).hexdigest()


class VerdictCache:
    """A sqlite file ``<directory>/verdicts.sqlite``."""

    def __init__(self, directory: Path) -> None:
        directory = directory.expanduser()
        directory.mkdir(parents=True, exist_ok=True)
        self.path = directory / "verdicts.sqlite"
        self._lock = threading.Lock()
        self._conn = sqlite3.connect(self.path, check_same_thread=False, timeout=30.0, isolation_level=None)
        self._conn.execute("PRAGMA journal_mode=WAL")
        self._conn.execute(_SCHEMA_SQL)

    def _get(self, key: str) -> str | None:
        with self._lock:
            row = self._conn.execute("SELECT verdict_json FROM verdicts WHERE key = ?", (key,)).fetchone()
        return None if row is None else str(row[0])

    def _put(self, key: str, schema_name: str, verdict_json: str) -> None:
        with self._lock:
            self._conn.execute(
                "INSERT OR REPLACE INTO verdicts (key, schema_name, verdict_json, created_s) VALUES (?, ?, ?, ?)",
                (key, schema_name, verdict_json, time.time()),
            )

    async def get(self, key: str) -> str | None:
        """The stored verdict JSON, or ``None`` on a miss or a read error (logged)."""
        try:
            return await asyncio.to_thread(self._get, key)
        except sqlite3.Error as err:
            logger.warning("judge cache read failed (%s): %s; treating as a miss", self.path, err)
            return None

    async def put(self, key: str, schema_name: str, verdict_json: str) -> None:
        """Store a validated verdict; a write error is logged and ignored (the verdict is still returned)."""
        try:
            await asyncio.to_thread(self._put, key, schema_name, verdict_json)
        except sqlite3.Error as err:
            logger.warning("judge cache write failed (%s): %s", self.path, err)

    def close(self) -> None:
        with self._lock:
            self._conn.close()
