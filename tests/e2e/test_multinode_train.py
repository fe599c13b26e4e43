"""Two GRPO steps with ``trainer.nnodes=2`` on a real 2-node Ray cluster started by ``ray start`` on this machine.

The cluster: ``ray start --head`` and ``ray start --address`` (a second raylet with its own resources: logical CPUs
and the one logical "GPU" that askrl's CPU platform asks Ray for per trainer rank, see ``askrl.cpu.platform``), each
in its own process session, with a private ``--temp-dir`` and explicit ports, so that nothing else on the machine
(a ``ray.init()`` of another test, another user's cluster) joins it or is joined. Ray turns ``--node-ip-address
127.0.0.1`` into the host's own interface address on Linux (``resolve_ip_for_localhost``: a multi-node cluster must
be reachable from other hosts); the traffic stays on this machine. Teardown kills every process of the two sessions
(``ray stop`` would stop every Ray process on the machine, other runs' included).

The run: ``python -m askrl.train recipe=askmind_grpo`` (CPU profile, the tiny model, generated demo records, the
lexical judge) joins the cluster through ``ray_kwargs.ray_init.address``; VERL's resource pool asks for one
placement group of one GPU bundle per node, so the FSDP2 actor has one rank on each node (world size 2, gloo between
the nodes), and each rank's ``hf_cpu`` rollout server runs on that rank's node. The step-2 checkpoint is evaluated
against the live rollout servers (askrl's checkpoint callback, lexical judge).

What is checked: exit code 0 and both steps' metrics; from Ray's state API (``ray.util.state``, through the head's
dashboard), the trainer ranks' actors and the rollout servers are on both nodes, one of each per node, each server on
its rank's node, and both placement groups were placed, one per node; the checkpoint has both ranks' shards; the
evaluation of step 2 is recorded as done. Nothing is faked: only the "GPU" is a logical Ray resource.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from askrl.bench.trainer_modes import kill_session

pytestmark = [pytest.mark.slow, pytest.mark.timeout(1500)]

TRAIN_TIMEOUT_S = 900
RAY_START_TIMEOUT_S = 120
NODES_UP_TIMEOUT_S = 60
RAY = str(Path(sys.executable).with_name("ray"))  # the venv's CLI: its raylets start workers with this Python
HEAD_PORTS = ("--port", "--dashboard-port", "--ray-client-server-port", "--node-manager-port", "--object-manager-port",
              "--dashboard-agent-listen-port", "--dashboard-agent-grpc-port", "--runtime-env-agent-port",
              "--metrics-export-port")  # fmt: skip
WORKER_PORTS = HEAD_PORTS[3:]  # a worker node has no GCS, dashboard or client server of its own
# Every process of the cluster and the driver agree on Ray's auth mode: `ray start --head` turns token auth on when
# a token file exists (~/.ray/auth_token, left by any earlier local ray.init), but a join at an explicit address does
# not read it, and the worker node is then refused ("Authentication token is missing or incorrect").
RAY_ENV = {"RAY_USAGE_STATS_ENABLED": "0", "RAY_AUTH_MODE": "disabled"}
CHECKSUM_LINE = re.compile(r"hf_cpu weights loaded: replica=(\d+) global_steps=(\d+) tensors=\d+ checksum=([0-9a-f]+)")


@dataclass(frozen=True)
class LocalCluster:
    address: str  # the GCS, for ray.init / ray start --address
    dashboard: str  # the state API's server
    temp_dir: str
    head_node: str  # node ids
    worker_node: str


def free_ports(count: int) -> list[int]:
    """``count`` distinct ports free on 127.0.0.1 right now (all held open until every one is picked)."""
    sockets = [socket.socket() for _ in range(count)]
    try:
        for sock in sockets:
            sock.bind(("127.0.0.1", 0))
        return [sock.getsockname()[1] for sock in sockets]
    finally:
        for sock in sockets:
            sock.close()


def ray_start(args: list[str], *, env: dict[str, str], log: Path, sessions: list[int]) -> None:
    """``ray start ARGS`` in a new session (recorded in ``sessions`` for teardown); fails when it does not come up."""
    with log.open("a") as out:
        proc = subprocess.Popen([RAY, "start", *args], stdout=out, stderr=subprocess.STDOUT, env=env,
                                start_new_session=True)  # fmt: skip
        sessions.append(proc.pid)
        try:
            code = proc.wait(timeout=RAY_START_TIMEOUT_S)
        except subprocess.TimeoutExpired:
            code = None
    if code != 0:
        pytest.fail(f"ray start {args[0]} gave {code}; log tail:\n{log.read_text()[-4000:]}")


def node_args(ports: list[int], names: tuple[str, ...], *, num_cpus: int) -> list[str]:
    """Resources and ports of one node: ``num_cpus`` logical CPUs and one logical GPU (one trainer rank)."""
    args = ["--node-ip-address=127.0.0.1", f"--num-cpus={num_cpus}", "--num-gpus=1",
            "--object-store-memory=500000000", "--disable-usage-stats"]  # fmt: skip
    return args + [f"{name}={port}" for name, port in zip(names, ports, strict=True)]


@pytest.fixture(scope="module")
def ray_cluster(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LocalCluster]:
    from ray.util.state import list_nodes

    logs = tmp_path_factory.mktemp("ray_cluster")
    temp_dir = tempfile.mkdtemp(prefix="askrl-mn-", dir="/tmp")  # short: Ray socket paths must stay < 108 bytes
    env = {**os.environ, **RAY_ENV}
    ports = free_ports(len(HEAD_PORTS) + len(WORKER_PORTS))
    head_ports, worker_ports = ports[: len(HEAD_PORTS)], ports[len(HEAD_PORTS) :]
    address, dashboard = f"127.0.0.1:{head_ports[0]}", f"http://127.0.0.1:{head_ports[1]}"
    sessions: list[int] = []
    try:
        # The head takes the driver-side actors (TaskRunner, TransferQueue, agent loop, reward): more logical CPUs.
        ray_start(["--head", f"--temp-dir={temp_dir}", "--include-dashboard=true", "--dashboard-host=127.0.0.1",
                   *node_args(head_ports, HEAD_PORTS, num_cpus=24)], env=env, log=logs / "head.log", sessions=sessions)  # fmt: skip
        ray_start([f"--address={address}", f"--temp-dir={temp_dir}", *node_args(worker_ports, WORKER_PORTS, num_cpus=8)],
                  env=env, log=logs / "worker.log", sessions=sessions)  # fmt: skip
        deadline = time.monotonic() + NODES_UP_TIMEOUT_S
        while True:
            try:
                nodes = [n for n in list_nodes(address=dashboard) if n.state == "ALIVE"]
            except Exception:  # the dashboard may still be starting  # noqa: BLE001
                nodes = []
            if len(nodes) == 2 or time.monotonic() > deadline:
                break
            time.sleep(1)
        assert len(nodes) == 2, f"cluster did not come up with 2 nodes: {nodes}"
        head = next(n.node_id for n in nodes if n.is_head_node)
        worker = next(n.node_id for n in nodes if not n.is_head_node)
        yield LocalCluster(address, dashboard, temp_dir, head, worker)
    finally:
        for sid in sessions:
            kill_session(sid)
        shutil.rmtree(temp_dir, ignore_errors=True)


@dataclass
class MultiNodeRun:
    code: int
    wall_s: float
    log: str  # the console, then the run's full log (Ray's, VERL's and the libraries' output)
    run_dir: Path
    steps: list[int]
    actors: list  # ray.util.state ActorState of every actor of the run (dead by now, still listed)
    placement_groups: list
    drivers: list  # WorkerState of the driver process(es) the cluster saw


@pytest.fixture(scope="module")
def multinode_run(ray_cluster: LocalCluster, tmp_path_factory: pytest.TempPathFactory, run_bounded) -> MultiNodeRun:
    from ray.util.state import list_actors, list_placement_groups, list_workers

    workdir = tmp_path_factory.mktemp("multinode")
    run_dir = workdir / "run"
    env = {**os.environ, **RAY_ENV, "HF_HUB_OFFLINE": "1", "ASKRL_DATA_DIR": "", "PYTHONUNBUFFERED": "1",
           "RAY_DEDUP_LOGS": "0"}  # fmt: skip  (dedup would merge the 2 servers' lines)
    env.pop("RAY_ADDRESS", None)
    cmd = [
        sys.executable, "-m", "askrl.train", "recipe=askmind_grpo",
        "askrl.cpu_model=tiny", "askrl.data.source=demo",
        "trainer.nnodes=2", "trainer.n_gpus_per_node=1",
        f"ray_kwargs.ray_init.address={ray_cluster.address}", f"ray_kwargs.ray_init._temp_dir={ray_cluster.temp_dir}",
        # The cluster's resources are its nodes' (`ray start --num-cpus/--num-gpus`); a driver that joins passes none.
        "ray_kwargs.ray_init.num_cpus=null", "ray_kwargs.ray_init.num_gpus=null",
        "trainer.logger=[console]",
        # Every update must change the weights, even one whose groups all got the same reward (zero advantage, zero
        # gradient: the random tiny policy is often cut at the turn cap in every episode): weight decay at an lr
        # where it moves fp32 weights does (at the recipe's lr 1e-6 it is below fp32 resolution).
        "actor_rollout_ref.actor.optim.lr=1e-4", "actor_rollout_ref.actor.optim.weight_decay=0.1",
        f"trainer.default_local_dir={run_dir}",
    ]  # fmt: skip
    code, wall_s = run_bounded(cmd, env=env, timeout_s=TRAIN_TIMEOUT_S, log=workdir / "train.log")
    print(f"e2e multi-node train wall time: {wall_s:.1f}s")  # shown with -s; the README quotes it
    log = (workdir / "train.log").read_text(errors="replace")
    log += "".join(p.read_text(errors="replace") for p in sorted((run_dir / "logs").glob("*.log")))
    metrics = run_dir / "metrics.jsonl"
    steps = [json.loads(line)["step"] for line in metrics.read_text().splitlines()] if metrics.is_file() else []
    state = {"address": ray_cluster.dashboard, "detail": True, "raise_on_missing_output": False}
    actors = list_actors(limit=10_000, **state)
    groups = list_placement_groups(limit=1000, **state)
    drivers = list_workers(filters=[("worker_type", "=", "DRIVER")], limit=1000, **state)
    nodes = {ray_cluster.head_node: "head", ray_cluster.worker_node: "worker"}
    for actor in actors:  # the placement, shown with -s (the report quotes it)
        print(f"actor {actor.class_name.rsplit('.', 1)[-1]} {actor.name!r} on {nodes.get(actor.node_id)}")
    for group in groups:
        print(f"placement group {group.name} on {[nodes.get(b.get('node_id')) for b in group.bundles]}")
    return MultiNodeRun(code, wall_s, log, run_dir, steps, actors, groups, drivers)


def node_of(run: MultiNodeRun, class_suffix: str) -> dict[str, str]:
    """Actor name -> node id, for the run's actors whose class name ends with ``class_suffix``."""
    return {a.name: a.node_id for a in run.actors if a.class_name.endswith(class_suffix)}


def test_two_steps_train_on_two_nodes(multinode_run: MultiNodeRun) -> None:
    assert multinode_run.code == 0, multinode_run.log[-6000:]
    assert multinode_run.steps == [1, 2], multinode_run.log[-3000:]


def test_one_trainer_rank_and_its_rollout_server_on_each_node(multinode_run: MultiNodeRun,
                                                               ray_cluster: LocalCluster) -> None:  # fmt: skip
    both = {ray_cluster.head_node, ray_cluster.worker_node}
    # VERL names each rank's actor <pool prefix>WorkerDict_<placement group>:<local rank>; one rank per group here.
    ranks = {int(re.search(r"WorkerDict_(\d+):0$", name).group(1)): node
             for name, node in node_of(multinode_run, "WorkerDict").items()}  # fmt: skip
    assert sorted(ranks) == [0, 1] and set(ranks.values()) == both, ranks
    servers = {int(name.rsplit("_", 1)[1]): node for name, node in node_of(multinode_run, "HFGenerationServer").items()}
    assert servers == ranks  # replica i serves rank i's weights, on rank i's node
    groups = [[b["node_id"] for b in g.bundles] for g in multinode_run.placement_groups]
    assert sorted(len(g) for g in groups) == [1, 1] and {g[0] for g in groups} == both, groups


def test_the_task_runner_runs_on_the_drivers_node(multinode_run: MultiNodeRun) -> None:
    (driver,) = multinode_run.drivers
    assert set(node_of(multinode_run, "AskrlTaskRunner").values()) == {driver.node_id}


def test_every_weight_sync_reaches_both_nodes_servers(multinode_run: MultiNodeRun) -> None:
    # Each sync all-gathers the FSDP shards of both ranks over gloo (across the nodes), then each rank pushes the full
    # weights to its own server: both servers report the same checksum, a new one after every update.
    checksums: dict[int, dict[int, str]] = {}
    for replica, step, digest in CHECKSUM_LINE.findall(multinode_run.log):
        checksums.setdefault(int(step), {})[int(replica)] = digest
    assert sorted(checksums) == [0, 1, 2], multinode_run.log[-4000:]
    assert all(sorted(by_replica) == [0, 1] and len(set(by_replica.values())) == 1 for by_replica in checksums.values())
    assert len({by_replica[0] for by_replica in checksums.values()}) == 3, checksums


def test_checkpoint_has_both_ranks_shards_and_is_evaluated(multinode_run: MultiNodeRun) -> None:
    actor = multinode_run.run_dir / "global_step_2" / "actor"
    assert {p.name for p in actor.glob("model_world_size_*")} == {f"model_world_size_2_rank_{r}.pt" for r in (0, 1)}
    records = [json.loads(line) for line in (multinode_run.run_dir / "eval" / "history.jsonl").read_text().splitlines()]
    # the untrained policy (step 0: the CPU profile evaluates before training) and the step-2 checkpoint
    assert [(r["global_step"], r["status"], r["backend"]) for r in records] == [(0, "ok", "rollout"),
                                                                                (2, "ok", "rollout")], records
    assert all(r["suites"]["askmind"]["n"] == 2 for r in records), records
