# Two commands for a fresh clone: `make train` and `make test`. Each sets up whatever is missing first.
PY := .venv/bin/python
ARGS ?=
PYTEST_ARGS ?=

.PHONY: setup vllm train learn test test-fast lint verl-vllm test-verl-vllm

setup:
	bash scripts/setup.sh

# .venv-vllm: vLLM's CPU build for askrl's vLLM servers on a machine without a GPU (a no-op on a GPU machine).
vllm:
	bash scripts/setup_vllm.sh

train: setup
	$(PY) -m askrl.train recipe=askmind_grpo $(ARGS)
	@echo "make train: plots and report.md of this run: $(PY) -m askrl.report checkpoints/askrl/askmind_grpo (or the run dir in the summary above, when ARGS moved it)"

# Does it learn? SmolLM2 trained on a generated clarification task, evaluated before and after, next to a
# shuffled-reward control (scripts/bench_learning.py; two training runs, 30-38 min each on 2 cores).
learn: setup
	$(PY) scripts/bench_learning.py $(ARGS)

# The whole suite on CPU, end-to-end training runs and the vLLM servers included (GPU-only tests skip themselves;
# the -m askbench_data ones need ../shared/data/askbench). Two pytest-xdist workers, each test module on one of them
# (a module-scoped training run or server pair starts once); the 15 slowest tests are listed at the end.
XDIST := -n 2 --dist loadfile
test: setup vllm
	$(PY) -m pytest -m "not gpu" $(XDIST) --durations=15 $(PYTEST_ARGS)

# Unit and integration tests without the end-to-end runs and the vLLM servers (-m slow).
test-fast: setup
	$(PY) -m pytest -m "not gpu and not slow" $(XDIST) --durations=15 $(PYTEST_ARGS)

lint:
	$(PY) -m ruff check askrl reward eval_hooks tests scripts

# Opt-in, not part of `make test`: VERL's own vLLM rollout on vLLM's CPU build (docs/vllm_rollout_cpu.md).
verl-vllm:
	bash scripts/setup_verl_vllm.sh

test-verl-vllm: setup verl-vllm
	$(PY) -m pytest -m slow tests/e2e/test_verl_vllm_rollout.py $(PYTEST_ARGS)
