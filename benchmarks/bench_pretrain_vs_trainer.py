"""Training tokens/s of scripts/codeparrot_training.py against the HF `Trainer`, same model, data and batch.

    python benchmarks/bench_pretrain_vs_trainer.py [--steps 60] [--rounds 2] [--preset tiny] [--json PATH] [extra script args]

Both train the same GPT-2 (the preset's shape, SDPA attention) from the same seed on the same
`ConstantLengthDataset` stream (the tiny preset's built-in data: the standard library and its small BPE), batch
size, no accumulation, AdamW with the same groups, cosine schedule and clipping, one CPU thread each. Each side runs
in its own process, alternating; tokens/s is measured after the first `--warmup` steps (start-up, first buffer and
compilation are not steady state). Printed per round and as medians: tokens/s (wall clock), tokens per second of
the process's CPU time (what to compare on a shared CPU, where wall clock mostly measures the neighbours), MFU on
a GPU, and the median of the per-round ratios script / Trainer. `--json PATH` also writes the rounds, and per side
the median and spread (min, max) of each figure, to PATH.

On a GPU, run benchmarks/gpu_gpt2_small.sh instead (bf16, GPT-2 small, MFU).
"""
import argparse, json, os, statistics, subprocess, sys, tempfile, time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
SCRIPT = ROOT/'scripts'/'codeparrot_training.py'


def run_trainer(args):
    "The HF Trainer side (runs in a child process); prints one JSON line"
    import torch
    from transformers import Trainer, TrainerCallback, TrainingArguments
    sys.path.insert(0, str(SCRIPT.parent))
    import codeparrot_training as cp
    if args.threads: torch.set_num_threads(args.threads)
    a = cp.parse_args(['--preset', args.preset, '--output_dir', args.out, *args.extra])
    from accelerate.utils import set_seed
    set_seed(a.seed)
    tok = cp.load_tokenizer(a, type('Main', (), {'is_main_process': True, 'wait_for_everyone': lambda self: None})())
    train_dl, _ = cp.create_dataloaders(a, tok)
    model = cp.build_model(a, tok)

    class Times(TrainerCallback):
        marks = {}
        def on_step_end(self, targs, state, control, **kw):
            if state.global_step in (args.warmup, a.max_steps):
                if torch.cuda.is_available(): torch.cuda.synchronize()
                self.marks[state.global_step] = (time.perf_counter(), time.process_time())
    collate = lambda xs: {'input_ids': torch.stack(xs), 'labels': torch.stack(xs)}
    targs = TrainingArguments(
        output_dir=args.out, per_device_train_batch_size=a.train_batch_size, max_steps=a.max_steps,
        gradient_accumulation_steps=a.gradient_accumulation_steps, learning_rate=a.learning_rate,
        weight_decay=a.weight_decay, warmup_steps=a.num_warmup_steps, lr_scheduler_type=a.lr_scheduler_type,
        max_grad_norm=a.max_grad_norm, logging_steps=10**9, save_strategy='no', report_to=[], seed=a.seed,
        bf16=a.mixed_precision == 'bf16', dataloader_num_workers=a.num_workers, torch_compile=args.trainer_compile,
        dataloader_pin_memory=torch.cuda.is_available(),
        optim='adamw_torch_fused' if torch.cuda.is_available() else 'adamw_torch', use_cpu=not torch.cuda.is_available())
    trainer = Trainer(model=model, args=targs, train_dataset=train_dl.dataset, data_collator=collate, callbacks=[Times()])
    trainer.train()
    m = Times.marks
    tokens = (a.max_steps - args.warmup) * a.train_batch_size * a.gradient_accumulation_steps * a.seq_length
    tps = tokens / (m[a.max_steps][0] - m[args.warmup][0])
    tpc = tokens / (m[a.max_steps][1] - m[args.warmup][1])
    fpt = cp.flops_per_token(model, a.seq_length)
    print(json.dumps({'tokens_per_s': tps, 'tokens_per_cpu_s': tpc, 'mfu': tps * fpt / (a.peak_tflops * 1e12) if torch.cuda.is_available() else None,
                      'parameters': cp.model_size(model)}))


def run_script(args, out):
    "Our side: the exported script in a child process; its summary's tokens/s leaves out the first log interval"
    cmd = [sys.executable, str(SCRIPT), '--preset', args.preset, '--output_dir', out, '--max_steps', str(args.steps),
           '--log_every', str(args.warmup), '--eval_every', str(10**9), '--save_every', str(10**9),
           '--max_eval_steps', '1', '--gradient_accumulation_steps', '1', *args.extra]
    if args.threads: cmd += ['--threads', str(args.threads)]
    subprocess.run(cmd, check=True, capture_output=True, env=os.environ)
    summary = json.loads(Path(out, 'summary.json').read_text())
    return {k: summary[k] for k in ('tokens_per_s', 'tokens_per_cpu_s', 'mfu', 'parameters')}


def describe(v):
    mfu = '' if v['mfu'] is None else f", MFU {v['mfu']:.3f}"
    return f"{v['tokens_per_s']:.0f} tokens/s ({v['tokens_per_cpu_s']:.0f} per CPU-s{mfu})"


def main():
    p = argparse.ArgumentParser()
    p.add_argument('--steps', type=int, default=60); p.add_argument('--warmup', type=int, default=10)
    p.add_argument('--rounds', type=int, default=3); p.add_argument('--preset', default='tiny')
    p.add_argument('--threads', type=int, default=1, help='CPU threads per side (0: torch default)')
    p.add_argument('--trainer_compile', action='store_true', help='also torch.compile on the Trainer side')
    p.add_argument('--json', help='also write the rounds, medians and spreads to this JSON file (after every round)')
    p.add_argument('--role', default='bench'); p.add_argument('--out')
    args, extra = p.parse_known_args(); args.extra = extra
    if args.role == 'trainer': return run_trainer(args)
    rounds = []
    work = Path(tempfile.mkdtemp(prefix='bench-pretrain-'))
    for r in range(args.rounds):
        s = run_script(args, str(work/f'script{r}'))
        t_cmd = [sys.executable, __file__, '--role', 'trainer', '--preset', args.preset, '--out', str(work/f'trainer{r}'),
                 '--warmup', str(args.warmup), '--threads', str(args.threads),
                 *(['--trainer_compile'] if args.trainer_compile else []),
                 '--max_steps', str(args.steps), '--gradient_accumulation_steps', '1', *extra]
        t = json.loads(subprocess.run(t_cmd, check=True, capture_output=True, text=True).stdout.strip().splitlines()[-1])
        rounds.append((s, t))
        print(f"round {r}: script {describe(s)}, Trainer {describe(t)}", flush=True)
        if args.json: Path(args.json).write_text(json.dumps(summarise(args, rounds), indent=1))  # a cut-off run keeps its rounds
    med = statistics.median
    print(f"model {rounds[0][0]['parameters']/1e6:.1f}M parameters, preset {args.preset}, {args.steps} steps "
          f"({args.warmup} warm-up), {args.rounds} alternating rounds")
    print(f"{'':8s} {'tokens/s':>12s} {'tokens/CPU-s':>13s} {'MFU':>6s}   (medians over rounds)")
    for i, name in enumerate(('script', 'Trainer')):
        mfu = [r[i]['mfu'] for r in rounds if r[i]['mfu'] is not None]
        print(f"{name:8s} {med([r[i]['tokens_per_s'] for r in rounds]):12.0f} "
              f"{med([r[i]['tokens_per_cpu_s'] for r in rounds]):13.0f} {med(mfu) if mfu else float('nan'):6.3f}")
    print(f"ratio script/Trainer (median of per-round ratios): "
          f"{med([s['tokens_per_s'] / t['tokens_per_s'] for s, t in rounds]):.2f}x tokens/s, "
          f"{med([s['tokens_per_cpu_s'] / t['tokens_per_cpu_s'] for s, t in rounds]):.2f}x tokens per CPU-second")


def spread(values) -> dict:
    "Median, min and max of a figure over rounds (None where a side has no such figure, e.g. MFU on a CPU)"
    v = [x for x in values if x is not None]
    return {'median': statistics.median(v), 'min': min(v), 'max': max(v)} if v else None


def summarise(args, rounds) -> dict:
    "Everything the printout says, as one JSON-ready dict"
    keys = ('tokens_per_s', 'tokens_per_cpu_s', 'mfu')
    sides = {name: {k: spread([r[i][k] for r in rounds]) for k in keys} for i, name in enumerate(('script', 'trainer'))}
    return {'preset': args.preset, 'steps': args.steps, 'warmup': args.warmup, 'rounds': len(rounds),
            'parameters': rounds[0][0]['parameters'], 'extra_args': args.extra, **sides,
            'ratio_tokens_per_s': spread([s['tokens_per_s'] / t['tokens_per_s'] for s, t in rounds]),
            'per_round': [{'script': s, 'trainer': t} for s, t in rounds]}


if __name__ == '__main__':
    main()
