"""Find AskBench files: a local path when one is given, else ``$ASKRL_DATA_DIR``, else the Hugging Face hub.

The hub dataset ``jialeuuz/askbench_bench`` mirrors the original's ``ask_eval/data`` layout (``ask_bench/...``,
``common/...``), so one relative path per named set serves both a local copy and the hub. The hub is used only
when no local source is given: tests and CI never reach it.

    path = resolve_dataset("ask_mind")                       # hub download (cached by huggingface_hub)
    path = resolve_dataset("ask_mind", data_dir="../shared/data/askbench")
"""

from __future__ import annotations

import os
from pathlib import Path

from askrl.env_vars import ASKRL_DATA_DIR
from askrl.errors import DataError, UnknownNameError

HUB_REPO = "jialeuuz/askbench_bench"

#: Named evaluation / training sets and their path inside the data root (local or hub).
DATASETS: dict[str, str] = {
    "ask_mind": "ask_bench/ask_mind/test.jsonl",
    "ask_mind_math500de": "ask_bench/ask_mind/ask_mind_math500de/test.jsonl",
    "ask_mind_gpqade": "ask_bench/ask_mind/ask_mind_gpqade/test.jsonl",
    "ask_mind_bbhde": "ask_bench/ask_mind/ask_mind_bbhde/test.jsonl",
    "ask_overconfidence": "ask_bench/ask_overconfidence/test.jsonl",
    "ask_overconfidence_math500": "ask_bench/ask_overconfidence/ask_overconfidence_math500/test.jsonl",
    "ask_overconfidence_gpqa": "ask_bench/ask_overconfidence/ask_overconfidence_gpqa/test.jsonl",
    "ask_overconfidence_bbh": "ask_bench/ask_overconfidence/ask_overconfidence_bbh/test.jsonl",
    "quest_bench": "ask_bench/quest_bench/test.jsonl",
    "in3_interaction": "ask_bench/in3_interaction/test.jsonl",
    "math500": "common/math500/test.jsonl",
    "medqa": "common/medqa/test.jsonl",
    "gpqa": "common/gpqa/test.jsonl",
    "bbh": "common/bbh/test.jsonl",
    "healthbench": "common/healthbench/test.jsonl",
}


def download_from_hub(relative: str, repo: str = HUB_REPO) -> Path:
    """Download one file of the hub dataset (huggingface_hub caches it); a clear error when offline."""
    from huggingface_hub import hf_hub_download
    from huggingface_hub.errors import HfHubHTTPError, LocalEntryNotFoundError

    try:
        return Path(hf_hub_download(repo_id=repo, filename=relative, repo_type="dataset"))
    except (LocalEntryNotFoundError, HfHubHTTPError, OSError) as err:
        raise DataError(
            f"could not fetch {relative} from the hub dataset {repo} ({type(err).__name__}: {err}); "
            f"pass a local path or set {ASKRL_DATA_DIR} to a folder with the AskBench data"
        ) from err


def resolve_dataset(name: str, *, data_dir: str | Path | None = None, repo: str = HUB_REPO) -> Path:
    """The local file of named set ``name``: under ``data_dir`` or ``$ASKRL_DATA_DIR`` if set, else from the hub."""
    if name not in DATASETS:
        raise UnknownNameError(f"unknown dataset {name!r}; known: {sorted(DATASETS)}")
    relative = DATASETS[name]
    root = data_dir if data_dir is not None else os.environ.get(ASKRL_DATA_DIR)
    if root:
        path = Path(root) / relative
        if not path.is_file():
            raise DataError(f"{path}: no such file (dataset {name!r} under data dir {root})")
        return path
    return download_from_hub(relative, repo)


def resolve_input(source: str | Path, *, data_dir: str | Path | None = None) -> Path:
    """A user's ``--input``: an existing path as is; a dataset name (or ``hf:NAME``) through ``resolve_dataset``."""
    text = str(source)
    if text.startswith("hf:"):
        return resolve_dataset(text.removeprefix("hf:"), data_dir=None if data_dir is None else data_dir)
    path = Path(text)
    if path.exists():
        return path
    if text in DATASETS:
        return resolve_dataset(text, data_dir=data_dir)
    raise DataError(f"{text}: no such file, and not a dataset name (known: {sorted(DATASETS)})")
