"""Label names as the first examples: the contrastive method with and without them, and zero-shot-embed, at 8, 16 and 32
training issues of the development benchmark's single-label task (validation part, argmax, seeds 0-2).

Usage: python benchmarks/label_names.py [--sizes 8 16 32] [--seeds 0 1 2] [--variants ...] [--part valid]
           [--csv results/label_names.csv]
Each seed's training issues are the first n of a seeded permutation of its 300 (the same issues for every variant).
`names` settings of the contrastive method: none (issues only), anchors (every label's phrasings enter training as
labeled examples), prior (the label-name similarity is blended into the scores, weighted down as a label gains
issues), both; zero-shot-embed scores by label names alone (uncentred, or centred on the scored part's texts,
labels unread). One row per variant, size and seed: `variant, size, seed, split, macro_f1, micro_f1, seconds`.
"""
import argparse, json, sys, time
from pathlib import Path

import numpy as np
import pandas as pd

sys.path.insert(0, str(Path(__file__).parent))
from dev_benchmark import as_dataset, read_part, score_tags, write_parts

VARIANTS = {'contrastive': {'names': 'none'}, 'contrastive+anchors': {'names': 'anchors'},
            'contrastive+prior': {'names': 'prior'}, 'contrastive+both': {'names': 'both'}, 'zero-shot-embed': None,
            'zero-shot-embed-centred': None}


def subset(train: dict, n: int, seed: int) -> dict:
    idx = np.random.default_rng(seed).permutation(len(train['text']))[:n]
    return {k: [v[i] for i in idx] for k, v in train.items()}


def run(variant, n, seed, folder, labels, part):
    from tagparrot.core import set_seed
    from tagparrot.evaluation import DecisionRule
    from tagparrot.methods import get_method
    train = subset(as_dataset(read_part(folder, 'train'), labels), n, seed)
    scored = as_dataset(read_part(folder, part), labels)
    set_seed(seed); t0 = time.perf_counter()
    if variant == 'zero-shot-embed': m = get_method('zero-shot-embed', labels, center=None).fit()
    elif variant == 'zero-shot-embed-centred':  # centred on the scored part's texts, labels unread
        from datasets import Dataset
        m = get_method('zero-shot-embed', labels).fit(None, Dataset.from_dict({'text': scored['text']}))
    else: m = get_method('contrastive', labels, **VARIANTS[variant]).fit(train)
    seconds = time.perf_counter() - t0
    S = m.predict_proba(scored['text'])
    s = score_tags(np.asarray(scored['label_ids']), DecisionRule('single').fit(S, scored['label_ids']).decide(S), labels)
    return {'variant': variant, 'size': n, 'seed': seed, 'split': part, **s, 'seconds': round(seconds, 1)}


def main(argv=None):
    p = argparse.ArgumentParser('label_names', allow_abbrev=False, description=__doc__.split('\n')[0])
    p.add_argument('--sizes', type=int, nargs='+', default=[8, 16, 32])
    p.add_argument('--seeds', type=int, nargs='+', default=[0, 1, 2])
    p.add_argument('--variants', nargs='+', default=list(VARIANTS), choices=list(VARIANTS))
    p.add_argument('--part', default='valid', choices=['valid', 'test'])
    p.add_argument('--csv', default=str(Path(__file__).parents[1]/'results'/'label_names.csv'))
    a = p.parse_args(argv)
    csv = Path(a.csv)
    done = set() if not csv.exists() else {(r.variant, r.size, r.seed, r.split) for r in pd.read_csv(csv).itertuples()}
    for seed in a.seeds:
        folder = write_parts(seed, 'single')
        labels = sorted(set(json.loads((folder/'labels.json').read_text()).values()))
        for n in a.sizes:
            for v in a.variants:
                if (v, n, seed, a.part) in done: continue
                row = run(v, n, seed, folder, labels, a.part)
                print(json.dumps(row), flush=True)
                pd.DataFrame([row]).to_csv(csv, mode='a', header=not csv.exists(), index=False)


if __name__ == '__main__': main()
