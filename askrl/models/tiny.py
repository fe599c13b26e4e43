"""Build the tiny random Qwen2-style model and its locally trained tokenizer.

Why Qwen2 and head_dim 64: VERL picks its Qwen continuous-token builder from ``config.model_type == "qwen2"``,
so multi-turn masking in tests follows the same code path as a real Qwen policy; and 64 is the smallest head
size vLLM's CPU attention kernels accept, so the same directory can be served there.
"""

from __future__ import annotations

import json
from pathlib import Path

CHATML_TEMPLATE = (
    "{% for message in messages %}"
    "{{ '<|im_start|>' + message['role'] + '\n' + message['content'] + '<|im_end|>' + '\n' }}"
    "{% endfor %}"
    "{% if add_generation_prompt %}{{ '<|im_start|>assistant\n' }}{% endif %}"
)

SPECIAL_TOKENS = ["<|endoftext|>", "<|im_start|>", "<|im_end|>"]

# Text the BPE is trained on: enough to cover digits, arithmetic, chat roles and the words our tests and the
# smoke recipe use, so that tokenisation is not byte-by-byte everywhere.
_CORPUS = [
    "What is 12 + 7? Answer after ####. #### 19",
    "Could you tell me which value the denominator should use before I answer?",
    "The correct answer is boxed{12}. Final Answer: 12",
    "system user assistant: please clarify the missing information first.",
    "I think your premise is wrong: the point lies on the y-axis, not the x-axis.",
    "0 1 2 3 4 5 6 7 8 9 10 11 12 13 14 15 16 17 18 19 20 + - * / = ( ) ?",
    "Which option is correct? (A) (B) (C) (D) The answer is B.",
    "Thanks! The value is 40 customers. Yes, that correction is right.",
    "Hello, how can I help you today? Let me ask one question.",
    "The quick brown fox jumps over the lazy dog.",
]


def build_tiny(out: Path, *, seed: int = 0) -> None:
    """Write a tiny Qwen2 model (~350k params, fp32) and tokenizer into ``out``."""
    import torch
    from tokenizers import Tokenizer, decoders, models, pre_tokenizers, trainers
    from transformers import GenerationConfig, PreTrainedTokenizerFast, Qwen2Config, Qwen2ForCausalLM

    out.mkdir(parents=True, exist_ok=True)
    bpe = Tokenizer(models.BPE(unk_token=None))
    bpe.pre_tokenizer = pre_tokenizers.ByteLevel(add_prefix_space=False)
    bpe.decoder = decoders.ByteLevel()
    trainer = trainers.BpeTrainer(
        vocab_size=512,
        special_tokens=SPECIAL_TOKENS,
        initial_alphabet=pre_tokenizers.ByteLevel.alphabet(),
        show_progress=False,
    )
    bpe.train_from_iterator(_CORPUS * 4, trainer=trainer)
    tokenizer = PreTrainedTokenizerFast(
        tokenizer_object=bpe,
        bos_token=None,
        eos_token="<|im_end|>",
        pad_token="<|endoftext|>",
        padding_side="left",
        chat_template=CHATML_TEMPLATE,
    )
    tokenizer.save_pretrained(out)

    torch.manual_seed(seed)
    config = Qwen2Config(
        vocab_size=len(tokenizer),
        hidden_size=128,
        intermediate_size=256,
        num_hidden_layers=2,
        num_attention_heads=2,
        num_key_value_heads=1,
        head_dim=64,
        max_position_embeddings=4096,
        tie_word_embeddings=True,
        bos_token_id=tokenizer.pad_token_id,
        eos_token_id=tokenizer.eos_token_id,
        pad_token_id=tokenizer.pad_token_id,
        torch_dtype="float32",
    )
    model = Qwen2ForCausalLM(config)
    model.save_pretrained(out)
    GenerationConfig(
        eos_token_id=tokenizer.eos_token_id, pad_token_id=tokenizer.pad_token_id, do_sample=True
    ).save_pretrained(out)
    (out / "askrl_model.json").write_text(json.dumps({"name": "tiny", "params": model.num_parameters()}))
