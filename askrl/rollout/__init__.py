"""Online multi-turn clarification rollouts for VERL: the agent loop, its per-turn reward output, the advantages.

Modules: ``clarify_loop`` (``ClarifyAgentLoop``, the episode state machine), ``output`` (``TurnRewardOutput``:
per-turn ``rm_scores``), ``user_sim`` (the judge-backed simulated user), ``shared_judge`` (one judge per process),
``fidelity`` (leak check and ``rollout/...`` metrics), ``advantages`` (``askrl_traj_grpo``, ``askrl_turn_grpo``),
``config`` (the ``askrl.rollout`` block), ``row_inputs`` (a dataset row -> episode spec). Importing this package does
not import VERL.

    cfg.actor_rollout_ref.rollout.agent.agent_loop_config_path = agent_loop_config_path()
    # rows with agent_name == AGENT_NAME now run ClarifyAgentLoop
"""

from __future__ import annotations

from importlib import resources

#: The ``agent_name`` of the clarify loop (dataset column, ``rollout.agent.default_agent_loop``).
AGENT_NAME = "askrl_clarify"


def agent_loop_config_path() -> str:
    """Absolute path of the shipped ``agent_loops.yaml`` (VERL resolves relative paths against the cwd)."""
    return str(resources.files(__name__).joinpath("agent_loops.yaml"))
