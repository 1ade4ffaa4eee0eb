#!/usr/bin/env python
"""Study cells without a Jupyter kernel: one worker process per (method, seed), all appending to one results CSV.

`tagparrot study` executes each method's notebook through papermill, which needs Jupyter. A bare GPU machine often
has PyTorch and transformers but no kernel; this script runs the same `evaluate_slices` call with the same settings
the notebooks pass (the registry's `study_params`), so its rows are interchangeable with the notebooks' (resume skips
rows already in the CSV). Domain adaptation's masked-LM step runs once, before its cells start, so parallel seeds share
one adapted encoder; 05_augment's notebook also writes the per-operation table, which this script leaves out.

    python scripts/run_cells.py --preset default --methods finetune finetune-da ust --seeds 0 1 2 --jobs 9
"""
import argparse, os, subprocess, sys, time
from pathlib import Path

from tagparrot.core import TagparrotError
from tagparrot.methods import METHODS, study_params


def run_one(method, seed, preset, results, sizes, checkpoint, data, labels):
    from tagparrot.data import load_issue_splits
    from tagparrot.runner import evaluate_slices
    splits = load_issue_splits(data, labels, seed=seed)
    sizes = [s if s == 'full' else int(s) for s in sizes] if sizes else None
    params = study_params(method, preset, checkpoint, seed)
    rows = evaluate_slices(method, splits, seed=seed, sizes=sizes, params=params, results=results)
    print(f'{method} seed {seed}: {len(rows)} new rows', flush=True)


def adapt_once(preset, checkpoint, data, labels):
    "Train (or find cached) the masked-LM encoder the finetune-da cells start from"
    from tagparrot.data import load_issue_splits
    from tagparrot.domain import adapted_checkpoint
    splits = load_issue_splits(data, labels, seed=0)  # the unlabeled issues do not depend on the seed
    print('adapted encoder:', adapted_checkpoint(splits.ds['unsup']['text'], preset, checkpoint=checkpoint), flush=True)


def forwarded(args) -> list[str]:
    "The preset and the data options every child process gets"
    return ['--preset', args.preset] + sum(([f'--{f}', getattr(args, f)] for f in ('checkpoint', 'data', 'labels') if getattr(args, f)), [])


def worker_command(args, method, seed):
    cmd = [sys.executable, __file__, '--worker', method, str(seed), '--results', str(args.results), *forwarded(args)]
    return cmd + (['--sizes', *args.sizes] if args.sizes else [])


def launch(cmd, log: Path):
    log.parent.mkdir(parents=True, exist_ok=True)
    return subprocess.Popen(cmd, stdout=log.open('w'), stderr=subprocess.STDOUT)


def schedule(args) -> int:
    "Run every cell, at most `--jobs` at a time; finetune-da cells wait for the one masked-LM run. Returns failures"
    cells = [(m, s) for m in args.methods for s in args.seeds]
    queue = [c for c in cells if c[0] != 'finetune-da']
    waiting = [c for c in cells if c[0] == 'finetune-da']
    adapt = None
    if waiting:
        adapt = launch([sys.executable, __file__, '--adapt', *forwarded(args)], args.logs/'adapt.log')
    running, failed, t0 = {}, 0, time.time()
    while queue or waiting or running or (adapt and adapt.poll() is None):
        if adapt is not None and adapt.poll() is not None:
            if adapt.returncode: print(f'masked-LM adaptation failed (see {args.logs/"adapt.log"}); finetune-da skipped', flush=True); failed += len(waiting); waiting = []
            queue, waiting, adapt = queue + waiting, [], None
        while queue and len(running) < args.jobs:
            m, s = queue.pop(0)
            running[(m, s)] = launch(worker_command(args, m, s), args.logs/f'{m}_seed-{s}.log')
        for c, p in list(running.items()):
            if p.poll() is None: continue
            del running[c]
            failed += bool(p.returncode)
            print(f'[{time.time() - t0:6.0f} s] {c[0]} seed {c[1]}: {"done" if not p.returncode else f"FAILED (rc {p.returncode})"}', flush=True)
        time.sleep(1)
    return failed


def parser():
    p = argparse.ArgumentParser(description=__doc__.split('\n\n')[0], allow_abbrev=False)
    p.add_argument('--preset', default='default', help='budget preset (default: default)')
    p.add_argument('--methods', nargs='+', default=[], help=f"subset of: {' '.join(METHODS)}")
    p.add_argument('--seeds', nargs='+', type=int, default=[0, 1, 2], help='seeds of the slices (default: 0 1 2)')
    p.add_argument('--sizes', nargs='+', help='slice sizes, e.g. 8 16 full (default: all)')
    p.add_argument('--checkpoint', help='checkpoint of every cell (default: the registry default)')
    p.add_argument('--data', help='issues file (default: the shared file)')
    p.add_argument('--labels', help='label preset or JSON map')
    p.add_argument('--results', type=Path, default=Path('results/results.csv'), help='results CSV (default: results/results.csv)')
    p.add_argument('--logs', type=Path, default=Path('runs/cells'), help='one log per cell (default: runs/cells)')
    p.add_argument('--jobs', type=int, default=os.cpu_count(), help='cells at a time (default: number of cores)')
    p.add_argument('--worker', nargs=2, metavar=('METHOD', 'SEED'), help=argparse.SUPPRESS)
    p.add_argument('--adapt', action='store_true', help=argparse.SUPPRESS)
    return p


def main(argv=None) -> int:
    args = parser().parse_args(argv)
    try:
        if args.worker: return run_one(args.worker[0], int(args.worker[1]), args.preset, args.results, args.sizes, args.checkpoint, args.data, args.labels) or 0
        if args.adapt: return adapt_once(args.preset, args.checkpoint, args.data, args.labels) or 0
        if unknown := [m for m in args.methods if m not in METHODS]:
            raise TagparrotError(f"unknown method(s) {', '.join(unknown)} (choose from {', '.join(METHODS)})")
        if not args.methods: raise TagparrotError('name the cells to run with --methods')
        return min(schedule(args), 1)
    except TagparrotError as e:
        print(f'error: {e}', file=sys.stderr)
        return 2


if __name__ == '__main__':
    sys.exit(main())
