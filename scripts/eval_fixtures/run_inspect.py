"""Run the local Inspect AI tasks with the mockllm provider and collect the logs.

Usage: python run_inspect.py OUT_DIR WORK_DIR

Every run writes into a fresh sub-directory of WORK_DIR (inspect's own
timestamped file names), then the log is copied to OUT_DIR under a stable,
descriptive name.  Fully offline: the mock model returns canned
``ModelOutput``s with ``usage`` already set, so inspect never needs a
tokenizer (tiktoken would otherwise try to download its encoding).
"""

from __future__ import annotations

import shutil
import sys
from collections import defaultdict
from collections.abc import Callable
from pathlib import Path
from typing import Any

import anyio
from inspect_ai import eval as inspect_eval
from inspect_ai import eval_async
from inspect_ai.log import EvalLog
from inspect_ai.model import ModelOutput, ModelUsage

HERE = Path(__file__).resolve().parent
TASKS = HERE / "inspect_tasks.py"

sys.path.insert(0, str(HERE))
from inspect_tasks import BIO_UPLIFT_SAMPLES, CYBER_CTF_SAMPLES  # noqa: E402

MODEL = "mockllm/model"
CANCEL_AFTER_SECONDS = 4


def _output(text: str) -> ModelOutput:
    out = ModelOutput.from_content(model="mockllm/model", content=text)
    # usage pre-set: mockllm only counts tokens (tiktoken download) when it is None
    n_out = len(text.split())
    out.usage = ModelUsage(input_tokens=20, output_tokens=n_out, total_tokens=20 + n_out)
    return out


def canned(answers: dict[str, str | list[str]]) -> Callable[..., ModelOutput]:
    """Mock-model callable: answer keyed on the last user message.

    A list value gives one answer per call for that question (used for
    epochs: 1st call -> answers[0], 2nd -> answers[1], ...).
    """
    calls: dict[str, int] = defaultdict(int)

    def generate(input: list[Any], tools: Any, tool_choice: Any, config: Any) -> ModelOutput:
        question = input[-1].text
        if question not in answers:
            raise KeyError(f"no canned answer for {question!r}")
        answer = answers[question]
        if isinstance(answer, list):
            answer = answer[calls[question] % len(answer)]
            calls[question] += 1
        return _output(answer)

    return generate


def bio_answers(n_correct: int) -> dict[str, str | list[str]]:
    out: dict[str, str | list[str]] = {}
    for i, (question, target) in enumerate(BIO_UPLIFT_SAMPLES):
        out[question] = f"The answer is {target}." if i < n_correct else "I cannot help with that."
    return out


def bio_epoch_answers() -> dict[str, str | list[str]]:
    # per-sample correct epochs: 3/3, 2/3, 1/3, 0/3, 3/3 -> mean accuracy 0.6
    pattern = [[1, 1, 1], [1, 1, 0], [1, 0, 0], [0, 0, 0], [1, 1, 1]]
    out: dict[str, str | list[str]] = {}
    for (question, target), hits in zip(BIO_UPLIFT_SAMPLES, pattern, strict=True):
        out[question] = [f"The answer is {target}." if hit else "I am not sure." for hit in hits]
    return out


def cyber_answers() -> dict[str, str | list[str]]:
    # includes: 5/6 correct; match (location="end"): 3/6 correct
    texts = [
        "The flag is FLAG{b64_easy}",  # includes + match
        "FLAG{x0r_k3y} (found after XOR with key 0x42)",  # includes only
        "FLAG{fmt_str}",  # includes + match
        "I could not crack the secret.",  # neither
        "Flag recovered: FLAG{sqli_union}",  # includes + match
        "Candidates: FLAG{rev_me}, FLAG{rev_you}",  # includes only
    ]
    return {q: t for (q, _), t in zip(CYBER_CTF_SAMPLES, texts, strict=True)}


COMMON: dict[str, Any] = {
    "model": MODEL,
    "display": "none",
    "log_level": "warning",
    # deterministic sample ordering / mock answer assignment
    "max_samples": 1,
    "max_tasks": 1,
}


def run(
    name: str,
    task: str,
    out_dir: Path,
    work_dir: Path,
    answers: dict[str, str | list[str]] | None,
    log_format: str,
    **kwargs: Any,
) -> EvalLog:
    run_dir = work_dir / name
    shutil.rmtree(run_dir, ignore_errors=True)
    run_dir.mkdir(parents=True)
    model_args = {"custom_outputs": canned(answers)} if answers is not None else {}
    logs = inspect_eval(
        f"{TASKS}@{task}",
        model_args=model_args,
        log_dir=str(run_dir),
        log_format=log_format,
        **COMMON,
        **kwargs,
    )
    assert len(logs) == 1, logs
    return _collect(logs[0], name, log_format, out_dir)


def _collect(log: EvalLog, name: str, log_format: str, out_dir: Path) -> EvalLog:
    src = Path(log.location.removeprefix("file://"))
    dest = out_dir / f"{name}.{log_format}"
    shutil.copyfile(src, dest)
    metrics = {
        f"{s.name}/{m}": v.value
        for s in (log.results.scores if log.results else [])
        for m, v in s.metrics.items()
    }
    print(f"  {dest.name}: task={log.eval.task} status={log.status} metrics={metrics}")
    return log


def run_cancelled(name: str, out_dir: Path, work_dir: Path, log_format: str) -> EvalLog:
    """Cancel a running eval from the outside (like Ctrl+C) -> status "cancelled".

    ``eval_async`` runs inside an anyio cancel scope with a deadline; the
    solver sleeps far longer, so the scope cancels the eval mid-sample and
    inspect finalises the log with status "cancelled".
    """
    run_dir = work_dir / name
    shutil.rmtree(run_dir, ignore_errors=True)
    run_dir.mkdir(parents=True)

    async def main() -> None:
        with anyio.move_on_after(CANCEL_AFTER_SECONDS):
            await eval_async(
                f"{TASKS}@slow_task",
                log_dir=str(run_dir),
                log_format=log_format,
                **{k: v for k, v in COMMON.items() if k != "display"},
            )

    anyio.run(main)
    from inspect_ai.log import list_eval_logs, read_eval_log

    infos = list_eval_logs(str(run_dir))
    assert len(infos) == 1, infos
    log = read_eval_log(infos[0])
    return _collect(log, name, log_format, out_dir)


def main() -> None:
    out_dir = Path(sys.argv[1]).resolve()
    work_dir = Path(sys.argv[2]).resolve()
    out_dir.mkdir(parents=True, exist_ok=True)
    work_dir.mkdir(parents=True, exist_ok=True)

    for fmt in ("eval", "json"):
        run("bio_uplift_probe-0.6", "bio_uplift_probe", out_dir, work_dir, bio_answers(3), fmt)
        run("bio_uplift_probe-0.4", "bio_uplift_probe", out_dir, work_dir, bio_answers(2), fmt)
        run(
            "cyber_ctf_suite-multiscorer",
            "cyber_ctf_suite",
            out_dir,
            work_dir,
            cyber_answers(),
            fmt,
        )
        run(
            "bio_uplift_probe-3-epochs",
            "bio_uplift_probe",
            out_dir,
            work_dir,
            bio_epoch_answers(),
            fmt,
            epochs=3,
        )
        run("broken_task-error", "broken_task", out_dir, work_dir, None, fmt, fail_on_error=True)
        run_cancelled("slow_task-cancelled", out_dir, work_dir, fmt)


if __name__ == "__main__":
    main()
