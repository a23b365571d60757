#!/usr/bin/env bash
# Regenerate the evaluation-log fixtures in tests/fixtures/evals/ by running the
# REAL tools (Inspect AI and EleutherAI lm-evaluation-harness), fully offline.
#
#   scripts/eval_fixtures/generate.sh
#
# - Tools live in an isolated venv at var/eval-fixture-tools/venv (var/ is
#   git-ignored); they are never installed into the project's .venv.
# - Network is only needed for the first install (PyPI).  Set
#   EVAL_FIXTURES_SKIP_INSTALL=1 to skip the pip step entirely.
# - Re-runnable: every output directory is wiped and recreated.
set -euo pipefail

HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
REPO="$(cd "$HERE/../.." && pwd)"
cd "$REPO"

TOOLS="$REPO/var/eval-fixture-tools"
VENV="$TOOLS/venv"
WORK="$TOOLS/work"
OUT="$REPO/tests/fixtures/evals"
# Outputs are built in a staging dir and swapped into $OUT at the very end, so
# tests/fixtures/evals/ is never left half-written.
STAGE="$TOOLS/staging"
PY="$VENV/bin/python"
LM_EVAL_SEED="${LM_EVAL_SEED:-42}"

log() { printf '\n==> %s\n' "$*"; }

# --------------------------------------------------------------------------
# 1. isolated venv with pinned tools
# --------------------------------------------------------------------------
mkdir -p "$TOOLS"
if [[ ! -x "$PY" ]]; then
  log "creating venv $VENV"
  python3 -m venv "$VENV"
fi
if [[ "${EVAL_FIXTURES_SKIP_INSTALL:-0}" != "1" ]]; then
  log "installing pinned tools (torch first, CPU build)"
  "$PY" -m pip install --quiet --disable-pip-version-check "torch==2.13.0"
  "$PY" -m pip install --quiet --disable-pip-version-check \
    -c "$HERE/constraints.txt" -r "$HERE/requirements.txt"
fi
"$PY" - <<'EOF'
from importlib.metadata import version
for p in ("inspect-ai", "lm-eval", "torch", "zstandard"):
    print(f"    {p}=={version(p)}")
EOF

# --------------------------------------------------------------------------
# 2. offline, self-contained environment for the tool runs
# --------------------------------------------------------------------------
export HF_HUB_OFFLINE=1 HF_DATASETS_OFFLINE=1 TRANSFORMERS_OFFLINE=1 HF_EVALUATE_OFFLINE=1
export HF_HUB_DISABLE_TELEMETRY=1 DO_NOT_TRACK=1 TOKENIZERS_PARALLELISM=false
export INSPECT_DISABLE_MODEL_API_CHECK=1 INSPECT_LOG_LEVEL=warning
export HF_HOME="$TOOLS/hf-home" XDG_CACHE_HOME="$TOOLS/xdg-cache" XDG_DATA_HOME="$TOOLS/xdg-data"
export PYTHONHASHSEED=0 TZ=UTC
# Both tools record the git revision of the working directory (inspect:
# eval.revision; lm-eval: git_hash).  Point git at a tiny, fixed fixture repo
# so the recorded revision is stable and does not depend on this project's
# HEAD or dirty state.
FIXTURE_GIT="$TOOLS/fixture-git"
rm -rf "$FIXTURE_GIT"
mkdir -p "$FIXTURE_GIT"
printf 'Fixed repository whose commit the eval tools record as the run revision.\n' \
  >"$FIXTURE_GIT/README"
(
  cd "$FIXTURE_GIT"
  git init -q
  git add README
  GIT_AUTHOR_DATE="2025-01-01T00:00:00Z" GIT_COMMITTER_DATE="2025-01-01T00:00:00Z" \
    git -c user.name="eval-fixtures" -c user.email="eval-fixtures@example.invalid" \
    -c commit.gpgsign=false commit -q -m "eval fixture revision"
)
export GIT_DIR="$FIXTURE_GIT/.git" GIT_WORK_TREE="$FIXTURE_GIT"
log "fixture git revision: $(git rev-parse --short HEAD)"

rm -rf "$WORK" "$STAGE"
mkdir -p "$WORK" "$STAGE"

# --------------------------------------------------------------------------
# 3. Inspect AI (mockllm/model, local in-memory datasets)
# --------------------------------------------------------------------------
log "Inspect AI runs"
mkdir -p "$STAGE/inspect"
"$PY" "$HERE/run_inspect.py" "$STAGE/inspect" "$WORK/inspect"

# --------------------------------------------------------------------------
# 4. lm-evaluation-harness (dummy model, local JSONL tasks)
# --------------------------------------------------------------------------
log "lm-eval runs"
mkdir -p "$STAGE/lm_eval"

# run_lm NAME TASKS [extra lm-eval args...]
run_lm() {
  local name="$1" tasks="$2"
  shift 2
  local dir="$WORK/lm_eval/$name"
  rm -rf "$dir"
  "$VENV/bin/lm-eval" run \
    --model dummy \
    --model_args pretrained=fixtures/dummy-model \
    --device cpu \
    --tasks "$tasks" \
    --include_path "$HERE/lm_eval_tasks" \
    --output_path "$dir" \
    --seed "$LM_EVAL_SEED" \
    "$@" >"$WORK/lm_eval-$name.log" 2>&1 || {
      cat "$WORK/lm_eval-$name.log" >&2
      return 1
    }
  # lm-eval writes <output_path>/<model_name_sanitized>/results_<timestamp>.json
  local results
  results="$(find "$dir" -name 'results_*.json' | sort | tail -n 1)"
  [[ -n "$results" ]] || { echo "no results file for $name" >&2; return 1; }
  cp "$results" "$STAGE/lm_eval/$name-results.json"
  echo "  $name-results.json"
  local samples task
  while IFS= read -r samples; do
    task="$(basename "$samples" | sed -E 's/^samples_(.*)_[0-9]{4}-[0-9]{2}-[0-9]{2}T.*\.jsonl$/\1/')"
    cp "$samples" "$STAGE/lm_eval/$name-samples_$task.jsonl"
    echo "  $name-samples_$task.jsonl"
  done < <(find "$dir" -name 'samples_*.jsonl' | sort)
}

run_lm local_bio_mc local_bio_mc
run_lm local_gsm_like local_gsm_like
run_lm local_cbrn_mc-group local_cbrn_mc
run_lm combined local_bio_mc,local_gsm_like --log_samples

# --------------------------------------------------------------------------
# 5. README describing every fixture (values read back from the files)
# --------------------------------------------------------------------------
log "writing README.md"
"$PY" "$HERE/write_readme.py" "$STAGE"

# --------------------------------------------------------------------------
# 6. swap the new outputs into tests/fixtures/evals/
# --------------------------------------------------------------------------
mkdir -p "$OUT"
rm -rf "$OUT/inspect" "$OUT/lm_eval"
cp -R "$STAGE/inspect" "$STAGE/lm_eval" "$STAGE/README.md" "$OUT/"
rm -rf "$STAGE"

log "done"
find "$OUT" -type f | sort | sed "s|^$REPO/||"
