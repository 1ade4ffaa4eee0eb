"""The contrastive method's quality-vs-time curve on the development benchmark's validation part.

Usage: python benchmarks/contrastive_budget.py [--seeds 0] [--variants NAME ...] [--csv results/contrastive_budget.csv]
Each variant (a named set of `Contrastive` settings, or `setfit`: the setfit library, 5 iterations, 128 tokens) is
fitted on the 300 training issues of the single-label task and scored on the validation part (argmax); one row per
variant and seed is appended to the CSV: `variant, settings, seed, split, macro_f1, micro_f1, seconds, tag_per_s`
(`seconds`: training wall time; `cpu_s`: its process CPU time, steadier on a shared machine). Variants run in one process, so those that freeze the same lower layers share their
cached outputs (as a study does). Rows already in the CSV for the same variant, settings and seed are skipped.
"""
import argparse, json, sys, time
from pathlib import Path

import numpy as np
import pandas as pd

sys.path.insert(0, str(Path(__file__).parent))
from dev_benchmark import as_dataset, fit_setfit, read_part, score_tags, setfit_scores, write_parts

BASE = dict(loss='supcon', batch_size=32, tune_seq_length=128)
VARIANTS = {  # name -> Contrastive settings
    'frozen-128': dict(BASE, train_layers=2, epochs=0),
    'supcon-L2-128-e1-lr5e-5': dict(BASE, train_layers=2, epochs=1, lr=5e-5),
    'supcon-L2-128-e3-lr5e-5': dict(BASE, train_layers=2, epochs=3, lr=5e-5),
    'supcon-L2-128-e3-lr2e-5': dict(BASE, train_layers=2, epochs=3, lr=2e-5),
    'supcon-L2-128-e5-lr5e-5': dict(BASE, train_layers=2, epochs=5, lr=5e-5),
    'supcon-L6-128-e1-lr2e-5': dict(BASE, train_layers=6, epochs=1, lr=2e-5),
    'supcon-L6-128-e2-lr5e-5': dict(BASE, train_layers=6, epochs=2, lr=5e-5),
    'supcon-L6-128-e3-lr5e-5': dict(BASE, train_layers=6, epochs=3, lr=5e-5),
    'supcon-L2-128-e10-lr5e-5': dict(BASE, train_layers=2, epochs=10, lr=5e-5),
    'supcon-L2-128-e5-lr1e-4': dict(BASE, train_layers=2, epochs=5, lr=1e-4),
    'mpnet-supcon-L12-128-e3-lr5e-5': dict(BASE, checkpoint='mpnet', train_layers=12, epochs=3, lr=5e-5),
    'mpnet-frozen-128': dict(BASE, checkpoint='mpnet', epochs=0, max_seq_length=128),
    'mpnet-frozen-384': dict(BASE, checkpoint='mpnet', epochs=0, max_seq_length=384),
    'mpnet-supcon-L12-128-e3-lr5e-5-read384': dict(BASE, checkpoint='mpnet', train_layers=12, epochs=3, lr=5e-5, max_seq_length=384),
    'mpnet-supcon-L12-128-e3-lr2e-5-read384': dict(BASE, checkpoint='mpnet', train_layers=12, epochs=3, lr=2e-5, max_seq_length=384),
    'mpnet-supcon-L12-256-e3-lr2e-5-read384': dict(BASE, checkpoint='mpnet', train_layers=12, epochs=3, lr=2e-5, tune_seq_length=256, max_seq_length=384),
    'mpnet-supcon-L4-256-e5-lr5e-5-read384': dict(BASE, checkpoint='mpnet', train_layers=4, epochs=5, lr=5e-5, tune_seq_length=256, max_seq_length=384),
    'mpnet-supcon-L12-128-e6-lr2e-5-bs16-read384': dict(BASE, checkpoint='mpnet', train_layers=12, epochs=6, lr=2e-5, batch_size=16, max_seq_length=384),
    'minilm-frozen-256': dict(BASE, epochs=0, max_seq_length=256),
    'supcon-L6-128-e3-lr5e-5-read256': dict(BASE, train_layers=6, epochs=3, lr=5e-5, max_seq_length=256),
    'supcon-L2-64-e3-lr5e-5': dict(BASE, train_layers=2, epochs=3, lr=5e-5, tune_seq_length=64),
    'cosine-L2-128-320pairs': dict(BASE, loss='cosine', train_layers=2, pairs_per_issue=20, max_pairs=320, batch_size=16, lr=2e-5, epochs=1),
    'setfit': {'num_iterations': 5, 'max_length': 128},
    'setfit-it1': {'num_iterations': 1, 'max_length': 128},
}


def run_variant(name, settings, seed, folder, labels):
    from tagparrot.core import set_seed
    from tagparrot.evaluation import DecisionRule
    from tagparrot.methods import get_method
    recs = {n: read_part(folder, n) for n in ('train', 'valid')}
    train = as_dataset(recs['train'], labels)
    valid = as_dataset(recs['valid'], labels)
    set_seed(seed); t0, c0 = time.perf_counter(), time.process_time()
    if name.startswith('setfit'): m = fit_setfit(train, seed, **settings); score = lambda t: setfit_scores(m, t)
    else: m = get_method('contrastive', labels, **settings).fit(train); score = m.predict_proba
    seconds, cpu_s, t0 = time.perf_counter() - t0, time.process_time() - c0, time.perf_counter()
    S = score(valid['text'])
    tag_per_s = len(S) / (time.perf_counter() - t0)
    s = score_tags(np.asarray(valid['label_ids']), DecisionRule('single').fit(S, valid['label_ids']).decide(S), labels)
    return {'variant': name, 'settings': json.dumps(settings, sort_keys=True), 'seed': seed, 'split': 'valid',
            'macro_f1': s['macro_f1'], 'micro_f1': s['micro_f1'], 'seconds': round(seconds, 1), 'cpu_s': round(cpu_s, 1), 'tag_per_s': round(tag_per_s, 1)}


def main(argv=None):
    p = argparse.ArgumentParser('contrastive_budget', allow_abbrev=False, description=__doc__.split('\n')[0])
    p.add_argument('--seeds', type=int, nargs='+', default=[0])
    p.add_argument('--variants', nargs='+', default=list(VARIANTS), choices=list(VARIANTS))
    p.add_argument('--csv', default=str(Path(__file__).parents[1]/'results'/'contrastive_budget.csv'))
    a = p.parse_args(argv)
    import torch; torch.set_num_threads(2)
    csv = Path(a.csv)
    done = set() if not csv.exists() else {(r.variant, r.settings, r.seed) for r in pd.read_csv(csv).itertuples()}
    for seed in a.seeds:
        folder = write_parts(seed, 'single')
        labels = sorted(set(json.loads((folder/'labels.json').read_text()).values()))
        for name in a.variants:
            if (name, json.dumps(VARIANTS[name], sort_keys=True), seed) in done: continue
            row = run_variant(name, VARIANTS[name], seed, folder, labels)
            print(json.dumps(row), flush=True)
            csv.parent.mkdir(parents=True, exist_ok=True)
            pd.DataFrame([row]).to_csv(csv, mode='a', header=not csv.exists(), index=False)


if __name__ == '__main__': main()
