#!/usr/bin/env python
"""The study's slices under the `own` protocol (each slice's labels alone train the method and fit its rule):
one row per method, slice and seed appended to `--results` (default results/own_protocol.csv); rows already there
are skipped, so an interrupted run resumes.

    python scripts/own_protocol.py --methods naive-bayes zero-shot-embed contrastive auto --seeds 0 1 2 --sizes 8 16 32
"""
import argparse

from tagparrot.core import project_path
from tagparrot.data import load_issue_splits
from tagparrot.methods import METHODS, study_params
from tagparrot.own import evaluate_own

p = argparse.ArgumentParser('own_protocol', allow_abbrev=False, description=__doc__.split('\n')[0])
p.add_argument('--methods', nargs='+', default=['naive-bayes', 'zero-shot-embed', 'embedding-knn', 'contrastive', 'auto'],
               choices=[*METHODS, 'auto'])
p.add_argument('--seeds', type=int, nargs='+', default=[0, 1, 2])
p.add_argument('--sizes', nargs='+', default=['8', '16', '32', '64', '128', '256', 'full'])
p.add_argument('--preset', default='default')
p.add_argument('--results', default=str(project_path('results', 'own_protocol.csv')))
a = p.parse_args()
for seed in a.seeds:
    splits = load_issue_splits(seed=seed)
    sizes = [s if s == 'full' else int(s) for s in a.sizes]
    for method in a.methods:
        params = {} if method == 'auto' else study_params(method, a.preset, None, seed)
        rows = evaluate_own(method, splits, seed, sizes, params, a.results)
        print(f'{method} seed {seed}: {len(rows)} new rows', flush=True)
