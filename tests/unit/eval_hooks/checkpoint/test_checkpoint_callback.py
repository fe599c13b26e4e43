"""The checkpoint-evaluation callback as VERL builds it: scheduling, resume, logging one result per step, alert."""

from __future__ import annotations

import logging
from pathlib import Path
from types import SimpleNamespace

from askrl import _verl
from askrl.train.compose import compose_config
from eval_hooks.checkpoint.callback import CheckpointEvalCallback, eval_metrics
from eval_hooks.checkpoint.history import EvalHistory, EvalRecord


class RecordingLogger:
    """Stands in for VERL's ``Tracking`` only to see what would be logged, and at which step."""

    def __init__(self) -> None:
        self.calls: list[tuple[int, dict]] = []

    def log(self, data: dict, step: int) -> None:
        self.calls.append((step, data))


def _callback(tmp_path: Path, *extra: str) -> CheckpointEvalCallback:
    cfg = compose_config(["recipe=smoke", f"trainer.default_local_dir={tmp_path}", "trainer.save_freq=2",
                          "trainer.total_training_steps=5", "askrl.eval.suites=[askmind,calibration]", *extra])
    callback = _verl.build_checkpoint_callback(cfg)
    assert isinstance(callback, CheckpointEvalCallback)
    return callback


def _checkpoint(tmp_path: Path, step: int) -> Path:
    folder = tmp_path / f"global_step_{step}"
    (folder / "actor").mkdir(parents=True)
    return folder


def test_on_save_schedules_evaluation_saves_once_and_writes_provenance(tmp_path: Path) -> None:
    callback = _callback(tmp_path)
    assert callback.backend == "rollout"
    EvalHistory(tmp_path).append(EvalRecord(global_step=2, status="ok", backend="rollout", wall_s=1.0))
    for step in (2, 3, 4, 5):  # 3 is not a save step of save_freq=2, but 5 is the last step
        callback.on_save(trainer=None, global_step=step, checkpoint_dir=str(_checkpoint(tmp_path, step)))
    assert callback._rollout_due == [4, 5]  # 2 already finished
    assert (tmp_path / "global_step_4" / "askrl_provenance.json").is_file()


def test_resume_redoes_only_unfinished_evaluations(tmp_path: Path) -> None:
    callback = _callback(tmp_path, "askrl.eval.backend=rollout")
    for step in (2, 4):
        _checkpoint(tmp_path, step)
    trainer = SimpleNamespace(global_steps=4, llm_server_manager=SimpleNamespace(get_replicas=lambda: []))
    callback.on_resume(trainer)
    records = {r.global_step: r for r in EvalHistory(tmp_path).records()}
    # step 2's weights are gone from the rollout servers: recorded as skipped; step 4 (the resumed weights) is
    # evaluated now, and with no replicas that evaluation fails, is recorded, and training goes on
    assert records[2].status == "skipped" and "no longer hold" in records[2].error
    assert records[4].status == "failed" and "no rollout replicas" in records[4].error
    again = _callback(tmp_path, "askrl.eval.backend=rollout")
    again.on_resume(trainer)
    assert len(EvalHistory(tmp_path).records()) == 2  # nothing is redone once it has a history line


def test_before_train_evaluates_step_0_once_at_a_fresh_start_only(tmp_path: Path) -> None:
    no_replicas = SimpleNamespace(get_replicas=lambda: [])
    fresh = SimpleNamespace(global_steps=0, llm_server_manager=no_replicas)
    _callback(tmp_path, "askrl.eval.before_train=true").on_resume(fresh)
    # step 0 was evaluated against the rollout servers (none here: a failed evaluation, recorded; training goes on)
    assert [(r.global_step, r.status) for r in EvalHistory(tmp_path).records()] == [(0, "failed")]
    _callback(tmp_path, "askrl.eval.before_train=true").on_resume(fresh)  # a restart before step 1: not again
    _callback(tmp_path / "resumed", "askrl.eval.before_train=true").on_resume(
        SimpleNamespace(global_steps=3, llm_server_manager=no_replicas))  # resumed past step 0: nothing before
    _callback(tmp_path / "off").on_resume(fresh)  # the default: no step 0
    assert len(EvalHistory(tmp_path).records()) == 1
    assert not EvalHistory(tmp_path / "resumed").records() and not EvalHistory(tmp_path / "off").records()


def test_one_result_per_training_step_then_the_rest_after_the_last_step(tmp_path: Path, caplog) -> None:
    callback = _callback(tmp_path)
    for step, clear in ((2, 0.1), (4, 0.45)):
        callback._record_now(EvalRecord(global_step=step, status="ok", backend="rollout", wall_s=2.0,
                                        suites={"calibration": {"clear_ask_rate": clear}, "askmind": {"acc": 0.5}}))
    callback._record_now(EvalRecord(global_step=5, status="failed", backend="rollout", wall_s=1.0, error="x"))
    trainer = SimpleNamespace(global_steps=6, logger=RecordingLogger())
    caplog.set_level(logging.WARNING)
    first = callback.metrics_for_step(trainer)
    assert first == {"eval/global_step": 2.0, "eval/calibration/clear_ask_rate": 0.1, "eval/askmind/acc": 0.5,
                     "eval/wall_s": 2.0}
    assert "calibration alert" not in caplog.text
    callback.finish(trainer, failed=False)
    steps = [(step, data["eval/global_step"]) for step, data in trainer.logger.calls]
    assert steps == [(6, 4.0), (7, 5.0)]  # past the last training step, so wandb's step never goes backwards
    assert trainer.logger.calls[1][1] == {"eval/global_step": 5.0, "eval/failed": 1.0}
    assert "calibration alert: step 4: the ask rate on clear prompts is 0.450" in caplog.text


def test_alert_threshold_is_configurable(tmp_path: Path, caplog) -> None:
    callback = _callback(tmp_path, "askrl.eval.alert.clear_ask_rate=0.5")
    callback._record_now(EvalRecord(global_step=2, status="ok", backend="rollout", wall_s=1.0,
                                    suites={"calibration": {"clear_ask_rate": 0.45}}))
    callback.metrics_for_step(SimpleNamespace(global_steps=3))
    assert "calibration alert" not in caplog.text
    assert eval_metrics(EvalRecord(global_step=3, status="skipped", backend="serve", wall_s=0.0)) == {}
