#!/usr/bin/env bash
# The study's GPU measurements in one run of under 10 minutes on one H200 (see benchmarks/gpu_check.py for the stages):
# the training script against the HF Trainer (3 x 300 steps of GPT-2 small in bf16, tokens/s and MFU, median and spread),
# a profile of its steady steps (top ops, host syncs per step), kill-and-resume, the fast zero-shot scorer against the
# pipeline, and all-mpnet-base-v2 against MiniLM as a tagger. Writes results/gpu_<stage>.json, each with the device name.
#
#   bash benchmarks/gpu_check.sh                         # every stage, 560 s in all
#   bash benchmarks/gpu_check.sh --only zeroshot,tagger  # some stages (--skip train: all but some)
#   bash benchmarks/gpu_check.sh --cpu-smoke             # no GPU: the same code paths at tiny sizes on the CPU
#
# Without a CUDA device (and without --cpu-smoke) it stops at once with one line and exit code 2.
set -euo pipefail
cd "$(dirname "$0")/.."
export PYTHONPATH="$PWD${PYTHONPATH:+:$PYTHONPATH}"  # this checkout's tagparrot, not an installed one
export TOKENIZERS_PARALLELISM=false HF_HUB_OFFLINE=1 HF_DATASETS_OFFLINE=1 TRANSFORMERS_OFFLINE=1 PYTHONWARNINGS=ignore
exec "${PYTHON:-python}" benchmarks/gpu_check.py "$@"
