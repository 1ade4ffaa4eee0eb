"""Sampling HumanEval completions with the block-boundary stopping criterion against sampling `max_new_tokens`
and cutting afterwards, on a tiny CodeParrot model.

    python benchmarks/bench_generation_stop.py [--steps 200] [--problems 16] [--n-samples 4] [--model DIR]

Trains the tiny preset for `--steps` (unless `--model` names a trained folder), then generates the same
completions both ways from the same seed, alternating, and prints the seconds of each, their ratio, and whether
the completions (after `first_block`) are identical, as they must be: the criterion only ends a sequence early.
"""
import argparse, subprocess, sys, tempfile, time
from pathlib import Path

import torch

from tagparrot.codeparrot.codeeval import generate_completions, load_causal_lm, load_humaneval

ROOT = Path(__file__).resolve().parents[1]

p = argparse.ArgumentParser()
p.add_argument('--steps', type=int, default=200)
p.add_argument('--problems', type=int, default=16)
p.add_argument('--n-samples', type=int, default=4)
p.add_argument('--max-new-tokens', type=int, default=128)
p.add_argument('--rounds', type=int, default=2)
p.add_argument('--model', help='a trained model folder (default: train the tiny preset now)')
args = p.parse_args()

torch.set_num_threads(1)
model_dir = args.model
if model_dir is None:
    out = Path(tempfile.mkdtemp(prefix='bench-stop-'))
    subprocess.run([sys.executable, str(ROOT/'scripts'/'codeparrot_training.py'), '--preset', 'tiny', '--max_steps',
                    str(args.steps), '--output_dir', str(out)], check=True, stdout=subprocess.DEVNULL)
    model_dir = out/'final'
model, tok = load_causal_lm(model_dir, 'cpu')
prompts = [p['prompt'] for p in load_humaneval()[:args.problems]]
seconds, texts = {True: [], False: []}, {}
for _ in range(args.rounds):
    for stop in (True, False):
        t = time.perf_counter()
        texts[stop] = generate_completions(model, tok, prompts, args.n_samples, args.max_new_tokens, stop_at_block=stop)
        seconds[stop].append(time.perf_counter() - t)
best = {k: min(v) for k, v in seconds.items()}
print(f'stop at block: {best[True]:.2f} s, generate then cut: {best[False]:.2f} s, '
      f'speed-up {best[False] / best[True]:.2f}x, identical completions: {texts[True] == texts[False]} '
      f'({args.problems} prompts x {args.n_samples} samples, max_new_tokens={args.max_new_tokens}, best of {args.rounds})')
