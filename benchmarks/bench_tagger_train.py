"""Training time and quality of the contrastive tagger against the setfit library, on the same 300 issues.

Usage: python benchmarks/bench_tagger_train.py [--seed 0] [--set KEY=VALUE ...] [--iterations 5] [--max-length 128]
Both train on the 300 training issues of the development benchmark's single-label task (`dev_benchmark.py`,
seed 0 by default): ours is `Contrastive` at its default settings (or `--set`), the setfit library runs its own
recipe on the same MiniLM (`--iterations` pair iterations, `--max-length` tokens). Both are scored on the test
part by argmax; `tag_per_s` is ours' scoring speed on that part (issues per second, batches of 64).
The last line is `train_s=<ours> setfit_train_s=<setfit> ratio=<setfit_train_s / train_s> tag_per_s=<ours>
macro_f1=<ours> setfit_macro_f1=<setfit>`: ratio >= 2 means ours trains in at most half setfit's time.
"""
import argparse, json, sys, time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).parent))
from dev_benchmark import as_dataset, fit_setfit, read_part, score_tags, setfit_scores, write_parts


def main(argv=None):
    p = argparse.ArgumentParser('bench_tagger_train', allow_abbrev=False, description=__doc__.split('\n')[0])
    p.add_argument('--seed', type=int, default=0, help='dev benchmark seed (default: %(default)s)')
    p.add_argument('--set', nargs='*', default=[], metavar='KEY=VALUE', help="Contrastive settings (default: the method's own)")
    p.add_argument('--iterations', type=int, default=5, help="setfit's num_iterations (default: %(default)s)")
    p.add_argument('--max-length', type=int, default=128, help="setfit's tokens per issue (default: %(default)s)")
    a = p.parse_args(argv)
    import torch
    from tagparrot.core import set_seed
    from tagparrot.evaluation import top_k
    from tagparrot.methods import get_method
    from tagparrot.tagger import _settings
    torch.set_num_threads(2)
    folder = write_parts(a.seed, 'single')
    labels = sorted(set(json.loads((folder/'labels.json').read_text()).values()))
    train = as_dataset(read_part(folder, 'train'), labels)
    test = as_dataset(read_part(folder, 'test'), labels)
    Y = np.asarray(test['label_ids'])

    set_seed(a.seed); t0 = time.perf_counter()
    ours = get_method('contrastive', labels, **_settings(a.set)).fit(train)
    train_s, t0 = time.perf_counter() - t0, time.perf_counter()
    S = np.concatenate([ours.predict_proba(test['text'][i:i + 64]) for i in range(0, len(test['text']), 64)])
    tag_per_s = len(S) / (time.perf_counter() - t0)
    f1 = score_tags(Y, top_k(S, 1), labels)['macro_f1']
    print(json.dumps({'ours': ours.params, 'budget': ours.budget, 'train_s': round(train_s, 1), 'tag_per_s': round(tag_per_s, 1), 'macro_f1': f1}), flush=True)

    set_seed(a.seed); t0 = time.perf_counter()
    sf = fit_setfit(train, a.seed, a.iterations, a.max_length)
    setfit_train_s = time.perf_counter() - t0
    sf_f1 = score_tags(Y, top_k(setfit_scores(sf, test['text']), 1), labels)['macro_f1']
    print(f"train_s={train_s:.1f} setfit_train_s={setfit_train_s:.1f} ratio={setfit_train_s / train_s:.2f} "
          f"tag_per_s={tag_per_s:.1f} macro_f1={f1:.4f} setfit_macro_f1={sf_f1:.4f}")


if __name__ == '__main__': main()
