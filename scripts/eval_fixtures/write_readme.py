"""Write tests/fixtures/evals/README.md from the generated fixture files.

Usage: python write_readme.py FIXTURES_DIR

Every value in the README is read back from the files themselves, so the
README cannot drift from the fixtures.  ``.eval`` members are read with the
stdlib ``zipfile`` (for the central directory) plus ``zstandard`` (for the
member data), the same way the project importer has to: Python 3.11's
``zipfile`` cannot decompress method 93 (zstd) itself.
"""

from __future__ import annotations

import io
import json
import struct
import sys
import zipfile
from importlib.metadata import version
from pathlib import Path
from typing import Any

import zstandard

ZIP_ZSTANDARD = 93


def read_eval_member(path: Path, name: str) -> Any:
    with zipfile.ZipFile(path) as zf:
        info = zf.getinfo(name)
    with path.open("rb") as fh:
        fh.seek(info.header_offset)
        sig, *_, name_len, extra_len = struct.unpack("<IHHHHHIIIHH", fh.read(30))
        assert sig == 0x04034B50, "bad local file header"
        fh.seek(info.header_offset + 30 + name_len + extra_len)
        raw = fh.read(info.compress_size)
    if info.compress_type == ZIP_ZSTANDARD:
        with zstandard.ZstdDecompressor().stream_reader(
            io.BytesIO(raw), read_across_frames=True
        ) as reader:
            data = reader.read()
    elif info.compress_type == zipfile.ZIP_STORED:
        data = raw
    else:
        with zipfile.ZipFile(path) as zf:
            data = zf.read(name)
    return json.loads(data)


def fmt(v: Any) -> str:
    if isinstance(v, float):
        return f"{v:.6g}"
    return str(v)


def inspect_rows(inspect_dir: Path) -> list[str]:
    rows = [
        "| file | format | task | model | status | epochs | samples "
        "| metrics (`scorer/metric` = value) |",
        "| --- | --- | --- | --- | --- | --- | --- | --- |",
    ]
    for path in sorted(inspect_dir.iterdir()):
        if path.suffix == ".eval":
            log = read_eval_member(path, "header.json")
            with zipfile.ZipFile(path) as zf:
                n_samples = sum(1 for n in zf.namelist() if n.startswith("samples/"))
        elif path.suffix == ".json":
            log = json.loads(path.read_text())
            n_samples = len(log.get("samples") or [])
        else:
            continue
        ev = log["eval"]
        metrics = [
            f"`{s['name']}/{m}` = {fmt(v['value'])}"
            for s in (log.get("results") or {}).get("scores", [])
            for m, v in s["metrics"].items()
        ]
        if log.get("error"):
            metrics.append(f"error: `{log['error']['message']}`")
        rows.append(
            f"| `{path.name}` | {path.suffix[1:]} | {ev['task']} | {ev['model']} | "
            f"{log['status']} | {ev['config'].get('epochs', 1)} | {n_samples} | "
            f"{'<br>'.join(metrics) or '—'} |"
        )
    return rows


def lm_eval_rows(lm_dir: Path) -> list[str]:
    rows = [
        "| file | tasks (groups) | model | metrics (`task`: `metric,filter` = value) |",
        "| --- | --- | --- | --- |",
    ]
    for path in sorted(lm_dir.glob("*-results.json")):
        d = json.loads(path.read_text())
        groups = set(d.get("groups", {}))
        tasks = [f"{t} (group)" if t in groups else t for t in d["results"]]
        metrics = []
        for task, res in d["results"].items():
            for key, value in res.items():
                if "," in key and isinstance(value, (int, float)):
                    metrics.append(f"{task}: `{key}` = {fmt(value)}")
        rows.append(
            f"| `{path.name}` | {', '.join(tasks)} | {d['config']['model']} "
            f"(`model_name` {d['model_name']}) | {'<br>'.join(metrics)} |"
        )
    samples = sorted(p.name for p in lm_dir.glob("*.jsonl"))
    if samples:
        rows.append("")
        rows.append(
            "Per-sample logs (`--log_samples`, one JSON object per line, one line per "
            "document and filter): " + ", ".join(f"`{s}`" for s in samples) + "."
        )
    return rows


README = """\
# Evaluation-log fixtures

Real output of **Inspect AI** and **EleutherAI lm-evaluation-harness**, used to
test the evaluation-result importer. Do not edit these files by hand:
regenerate them.

## Regenerating

```sh
scripts/eval_fixtures/generate.sh
```

The script creates an isolated venv at `var/eval-fixture-tools/venv`
(git-ignored; the tools are never installed into the project's `.venv`),
installs the pinned versions from `scripts/eval_fixtures/requirements.txt`
(torch first, the CPU build), then runs everything **offline**
(`HF_HUB_OFFLINE=1`, `HF_DATASETS_OFFLINE=1`, `TRANSFORMERS_OFFLINE=1`,
`INSPECT_DISABLE_MODEL_API_CHECK=1`, local datasets only) and rewrites
`tests/fixtures/evals/` completely. Network is needed only for the first
install from PyPI (`EVAL_FIXTURES_SKIP_INSTALL=1` skips the pip step).

Tool versions used for the files below: {versions}.

Inputs (all in `scripts/eval_fixtures/`):

- `inspect_tasks.py`: Inspect tasks with in-memory datasets
  (`bio_uplift_probe`, `cyber_ctf_suite`, `broken_task`, `slow_task`).
- `run_inspect.py`: runs them with the `mockllm/model` provider; the mock
  returns canned `ModelOutput`s (with `usage` set, so no tokenizer is needed)
  keyed on the question, which fixes the scores.
- `lm_eval_tasks/`: lm-eval task YAMLs over local JSONL files
  (`local_bio_mc`, `local_chem_mc`: multiple_choice with `acc`/`acc_norm`;
  `local_gsm_like`: generate_until with `exact_match` under the filters
  `strict-match` and `flexible-extract`; `local_cbrn_mc`: a group over the two
  multiple-choice tasks). lm-eval runs use `--model dummy
  --model_args pretrained=fixtures/dummy-model --seed {seed}`: the dummy model
  returns random log-likelihoods (seeded, so the values are reproducible) and
  always generates `"lol"`.

## Inspect AI (`inspect/`)

Every run exists in both log formats: `.eval` (inspect's default: a zip
archive whose members are zstandard-compressed JSON, zip compression
method 93) and `.json` (`log_format="json"`, one JSON document). The two files
of a pair come from two separate runs of the same task with the same mock
answers, so ids and timestamps differ between them, scores do not.

{inspect_table}

Notes:

- `bio_uplift_probe-3-epochs`: 5 samples x 3 epochs; per-sample correct epochs
  are 3/3, 2/3, 1/3, 0/3, 3/3, reduced by `mean` (see `reductions`) to an
  accuracy of 0.6.
- `broken_task-error`: the solver raises `RuntimeError`; with
  `fail_on_error=True` the whole run ends with `status: "error"`, an
  `error` object (`message`, `traceback`, `traceback_ansi`) and no
  `results`.
- `slow_task-cancelled`: the solver sleeps; `eval_async` is run inside an
  anyio cancel scope with a deadline, which cancels the run from outside (as
  Ctrl+C would). The log has `status: "cancelled"`, no `results`, no
  top-level `error`; the interrupted sample is logged with its own `error`.

## lm-evaluation-harness (`lm_eval/`)

`*-results.json` are lm-eval's aggregated results files
(`results_<timestamp>.json`, renamed).

{lm_eval_table}

## What varies between regenerations

Scores, task names, models, statuses, sample ids and sample content are stable.
These are not:

- Inspect: `eval.eval_id`, `eval.run_id`, `eval.task_id`, sample `uuid`s,
  message and event ids, all timestamps (`eval.created`, `stats.started_at`,
  `stats.completed_at`, sample and event times), `total_time`/`working_time`,
  the `.eval` archive bytes, the cancelled sample's error text (it names a
  cancel-scope address), and absolute paths inside error tracebacks.
- lm-eval: `date` (Unix time), `total_evaluation_time_seconds`, the
  timestamp in the original file names, and `pretty_env_info` (a description
  of the machine that generated the files).
- The git revision both tools record (inspect `eval.revision`, lm-eval
  `git_hash`) comes from a fixed throw-away repository that `generate.sh`
  creates, so it is stable and says nothing about this project's history.
"""


def main() -> None:
    out = Path(sys.argv[1])
    versions = ", ".join(f"`{p}=={version(p)}`" for p in ("inspect-ai", "lm-eval", "torch"))
    seeds = {
        json.loads(p.read_text())["config"]["random_seed"]
        for p in (out / "lm_eval").glob("*-results.json")
    }
    seed = ", ".join(str(s) for s in sorted(seeds))
    text = README.format(
        versions=versions,
        seed=seed,
        inspect_table="\n".join(inspect_rows(out / "inspect")),
        lm_eval_table="\n".join(lm_eval_rows(out / "lm_eval")),
    )
    (out / "README.md").write_text(text)


if __name__ == "__main__":
    main()
