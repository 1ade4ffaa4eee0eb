#!/usr/bin/env bash
# One entry point for a fresh machine: builds .venv/ if missing, then runs the study or the tests.
#   bash scripts/run.sh study [tagparrot study args...]   the main job
#   bash scripts/run.sh test                              the full test suite (what CI runs)
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT=$(pwd)
VENV="$ROOT/.venv"
PY=${PYTHON:-python3.11}
command -v "$PY" >/dev/null || PY=python3

setup_env() {
  if [ ! -x "$VENV/bin/tagparrot" ] || [ settings.ini -nt "$VENV/.tagparrot-installed" ] || [ scripts/constraints.txt -nt "$VENV/.tagparrot-installed" ]; then
    echo "== setting up $VENV (pinned dependencies; torch is the CPU build)"
    [ -x "$VENV/bin/python" ] || "$PY" -m venv "$VENV"
    local links=(); [ -d /opt/wheels ] && links=(--find-links /opt/wheels)
    # torch first and alone, pinned: an unpinned resolve would pull a multi-GB CUDA build
    "$VENV/bin/pip" install -q "${links[@]}" torch==2.13.0
    "$VENV/bin/pip" install -q "${links[@]}" -c scripts/constraints.txt -e ".[dev,cluster]"
    "$VENV/bin/python" -m ipykernel install --sys-prefix --name tagparrot --display-name "Python (tagparrot)" >/dev/null
    touch "$VENV/.tagparrot-installed"
  fi
  export PATH="$VENV/bin:$PATH" HF_HUB_OFFLINE=1 TRANSFORMERS_OFFLINE=1 HF_DATASETS_OFFLINE=1 TOKENIZERS_PARALLELISM=false
  export MPLBACKEND=Agg
}

cmd=${1:-test}; shift || true
setup_env
case "$cmd" in
  setup) echo "environment ready: $VENV" ;;
  study)
    tagparrot data
    rc=0; tagparrot study "$@" || rc=$?   # failed cells are recorded; still redraw the table from what finished
    python scripts/results_table.py; exit $rc ;;
  test)
    nbdev_export
    python -c "from tagparrot.pretrain import export_training_script; export_training_script()"
    if [ -n "$(git status --porcelain -- tagparrot scripts 2>/dev/null)" ]; then
      echo "nbdev_export changed exported files: notebooks and package are out of sync"; git status --short -- tagparrot scripts; exit 1
    fi
    nbdev_test --n_workers 2 --timing
    python -m pytest -q tests "$@" ;;
  *) echo "usage: bash scripts/run.sh study|test|setup [args]" >&2; exit 2 ;;
esac
