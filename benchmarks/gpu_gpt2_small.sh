#!/usr/bin/env bash
# GPT-2 small (the spec's 111M preset, 32,768-token vocabulary) in bf16 on one CUDA GPU:
# scripts/codeparrot_training.py (torch.compile, fused AdamW, SDPA, no per-step sync) against the HF Trainer
# (bf16, its defaults), same model, data and batch, in one call. Prints tokens/s and MFU (989 TFLOP/s bf16 peak,
# H100/H200 dense) side by side and their ratio, then the data pipeline's tokens/s with 1..8 workers.
#
#   bash benchmarks/gpu_gpt2_small.sh [STEPS=300] [BATCH=32] [WORKERS=8]
#
# Needs: a CUDA build of torch, transformers 5.x, datasets, accelerate, tokenizers (see settings.ini pins).
# Data: the Python standard library as a corpus and a 32,768-token BPE fitted on it (built here, ~1 min):
# what is measured is the training step, fed through the real ConstantLengthDataset.
# benchmarks/gpu_check.sh runs this comparison too (3 rounds, JSON), with the resume, zero-shot and encoder checks.
set -euo pipefail
cd "$(dirname "$0")/.."
export PYTHONPATH="$PWD${PYTHONPATH:+:$PYTHONPATH}"  # bench_constant_length.py imports tagparrot from this checkout
PY=${PYTHON:-python}
STEPS=${1:-300}; BATCH=${2:-32}; WORKERS=${3:-8}
WORK=${WORK:-$(mktemp -d /tmp/gpt2-small-bench.XXXX)}
export TOKENIZERS_PARALLELISM=false HF_HUB_OFFLINE=1 HF_DATASETS_OFFLINE=1 TRANSFORMERS_OFFLINE=1
$PY -c "import torch; assert torch.cuda.is_available(), 'no CUDA device'; print(torch.__version__, torch.cuda.get_device_name())"

$PY -c "import sys; sys.path.insert(0, 'benchmarks'); from pathlib import Path; from gpu_check import prepare_corpus
prepare_corpus(Path(sys.argv[1]), 32768); print('data ready in', sys.argv[1])" "$WORK"

$PY benchmarks/bench_pretrain_vs_trainer.py --preset small --steps "$STEPS" --warmup 50 --rounds 1 --threads 0 \
    --dataset_dir "$WORK/corpus" --tokenizer "$WORK/tok" --train_batch_size "$BATCH" --mixed_precision bf16 \
    --compile --num_workers "$WORKERS" --shuffle_buffer 100

$PY benchmarks/bench_constant_length.py --seconds 5 --rounds 1 --workers 4,"$WORKERS"
