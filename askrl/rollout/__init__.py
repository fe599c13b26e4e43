"""askrl's VERL rollouts: the agent loops (online episodes, offline turn samples) and their per-turn reward output.

Modules: ``clarify_loop`` (``ClarifyAgentLoop``, the online episode state machine), ``offline_turn_loop``
(``OfflineTurnAgentLoop``: one graded turn of a pre-built dialogue), ``loop_base`` (what both loops share: policy
turns token-in/token-out, the output with rewards, overlong penalty and masking), ``output`` (``TurnRewardOutput``:
per-turn ``rm_scores``), ``user_sim`` (the judge-backed simulated user), ``shared_judge`` (one judge per process),
``fidelity`` (leak check and ``rollout/...`` metrics), ``config`` (the ``askrl.rollout`` block), ``row_inputs`` (a
dataset row -> episode spec). The advantage estimators over these rewards live in ``reward.advantages``. Importing
this package does not import VERL.

    cfg.actor_rollout_ref.rollout.agent.agent_loop_config_path = agent_loop_config_path()
    # rows with agent_name == AGENT_NAME run ClarifyAgentLoop; OFFLINE_AGENT_NAME rows run OfflineTurnAgentLoop
"""

from __future__ import annotations

from importlib import resources

#: The ``agent_name`` of the clarify loop (dataset column, ``rollout.agent.default_agent_loop``).
AGENT_NAME = "askrl_clarify"
#: The ``agent_name`` of the offline turn loop (rows of ``askrl.data.offline_turns``).
OFFLINE_AGENT_NAME = "askrl_offline_turn"


def agent_loop_config_path() -> str:
    """Absolute path of the shipped ``agent_loops.yaml`` (VERL resolves relative paths against the cwd)."""
    return str(resources.files(__name__).joinpath("agent_loops.yaml"))
