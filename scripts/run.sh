#!/usr/bin/env bash
# One entry point for a fresh machine: builds .venv/ if missing, then runs the study or the tests.
#   bash scripts/run.sh study [tagparrot study args...]   the main job
#   bash scripts/run.sh test                              the full test suite (what CI runs)
#   bash scripts/run.sh docs                              the documentation site, built offline into _docs/
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT=$(pwd)
VENV="$ROOT/.venv"
PY=${PYTHON:-python3.11}
command -v "$PY" >/dev/null || PY=python3

# Debian packages the project needs, installed only as root, only if missing:
# bubblewrap isolates generated code (14_codeeval); chromium renders the docs site in its browser test
SYSTEM_PACKAGES=(
  bubblewrap
  chromium
  chromium-driver
)

install_system_packages() {
  local missing=() pkg
  for pkg in "${SYSTEM_PACKAGES[@]}"; do dpkg -s "$pkg" >/dev/null 2>&1 || missing+=("$pkg"); done
  [ ${#missing[@]} -eq 0 ] && return 0
  if [ "$(id -u)" -ne 0 ] || ! command -v apt-get >/dev/null; then
    echo "== missing Debian packages (install them to run every test): ${missing[*]}"; return 0
  fi
  echo "== installing Debian packages: ${missing[*]}"
  export DEBIAN_FRONTEND=noninteractive
  apt-get install -y -q "${missing[@]}" >/dev/null || { apt-get update -q >/dev/null && apt-get install -y -q "${missing[@]}" >/dev/null; }
}

setup_env() {
  install_system_packages
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
    python -c "from tagparrot.codeparrot.pretrain import export_training_script; export_training_script()"
    if [ -n "$(git status --porcelain -- tagparrot scripts 2>/dev/null)" ]; then
      echo "nbdev_export changed exported files: notebooks and package are out of sync"; git status --short -- tagparrot scripts; exit 1
    fi
    nbdev_test --n_workers 2 --timing
    python -m pytest -q tests "$@" ;;
  docs) python scripts/build_docs.py "$@" ;;
  *) echo "usage: bash scripts/run.sh study|test|docs|setup [args]" >&2; exit 2 ;;
esac
