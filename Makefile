# Two commands for a fresh clone: `make train` and `make test`. Each sets up whatever is missing first.
PY := .venv/bin/python
ARGS ?=
PYTEST_ARGS ?=

.PHONY: setup vllm train test test-fast lint

setup:
	bash scripts/setup.sh

# .venv-vllm: vLLM's CPU build for askrl's vLLM servers on a machine without a GPU (a no-op on a GPU machine).
vllm:
	bash scripts/setup_vllm.sh

train: setup
	$(PY) -m askrl.train recipe=askmind_grpo $(ARGS)
	@echo "make train: plots and report.md of this run: $(PY) -m askrl.report checkpoints/askrl/askmind_grpo (or the run dir in the summary above, when ARGS moved it)"

# The whole suite on CPU, end-to-end training runs and the vLLM servers included (GPU-only tests skip themselves).
test: setup vllm
	$(PY) -m pytest -m "not gpu" $(PYTEST_ARGS)

test-fast: setup
	$(PY) -m pytest -m "not gpu and not slow" $(PYTEST_ARGS)

lint:
	$(PY) -m ruff check askrl reward eval_hooks tests scripts
