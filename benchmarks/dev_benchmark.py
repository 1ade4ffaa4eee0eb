"""The tagger's development benchmark: few labeled issues, single-label and multilabel, from the default data.

Usage: python benchmarks/dev_benchmark.py --method contrastive [--set KEY=VALUE ...] [--seeds 0 1 2]
                                          [--task single|multi] [--part valid|test] [--direct] [--out DIR]
Single-label task: the issues of the default file that carry exactly one of `bug`, `enhancement`,
`dataset request`; per seed, 100 training issues a class (300 in all), the rest cut in two halves stratified by
class: a validation part (every design decision is taken on it) and a test part (final figures only).
Multilabel task: the study's own split of the default file (`hf-datasets` label map, `load_issue_splits`).
`tag_s` is the whole `tagparrot tag` command (start-up and loading the tagger included); `chosen` the method the
tagger holds (what `--method auto` picked). Each seed's parts are written as JSONL (`title, body, labels, split`) to `--out` (default: a temporary folder):
`train.jsonl` (the training issues alone: `tagparrot train` trains on every issue it is given), `valid.jsonl`, `test.jsonl`,
`labels.json` (the label map).
By default the method goes through the command line as a user runs it (`tagparrot train --task ... --data
train.jsonl`, then `tagparrot tag --data PART.jsonl`); `--direct` fits the method class on the training issues and
scores the part in this process (argmax for the single-label task, per-label cuts fitted on valid otherwise).
The last line is `macro_f1=<mean over seeds> std=<std> seeds=<n> per_seed=<f1,f1,...>`.
"""
import argparse, json, subprocess, sys, tempfile, time
from pathlib import Path

import numpy as np

SINGLE_LABELS = ('bug', 'enhancement', 'dataset request')
PER_CLASS = 100
SEEDS = (0, 1, 2)


def _issue(r, labels, split): return {'title': r['title'], 'body': r['body'], 'labels': labels, 'split': split}


def single_label_parts(seed: int, per_class: int = PER_CLASS, src=None) -> dict[str, list[dict]]:
    "Records of the train, valid and test parts of the single-label task for `seed` (duplicate texts dropped first)"
    from tagparrot.data import issue_text, read_issues
    seen, by_class = set(), {l: [] for l in SINGLE_LABELS}
    for r in read_issues(src):
        own = sorted(set(r['labels']) & set(SINGLE_LABELS))
        if len(own) != 1 or (t := issue_text(r)) in seen: continue
        seen.add(t); by_class[own[0]].append(r)
    rng, parts = np.random.default_rng(seed), {'train': [], 'valid': [], 'test': []}
    for label, recs in by_class.items():
        if len(recs) <= per_class: raise ValueError(f"only {len(recs)} issues carry '{label}' alone; need more than {per_class}")
        order = rng.permutation(len(recs))
        rest = order[per_class:]
        for name, idx in (('train', order[:per_class]), ('valid', rest[:len(rest) // 2]), ('test', rest[len(rest) // 2:])):
            parts[name] += [_issue(recs[i], [label], name) for i in idx]
    for name in parts: parts[name] = [parts[name][i] for i in rng.permutation(len(parts[name]))]
    return parts


def multilabel_parts(seed: int) -> dict[str, list[dict]]:
    "Records of the study's own train, valid and test splits of the default file (`hf-datasets` label map)"
    from tagparrot.data import load_issue_splits
    ds = load_issue_splits(seed=seed).ds
    def recs(name):  # the study's text is title, blank line, body: split it back so `tagparrot` rebuilds it alike
        return [_issue(dict(zip(('title', 'body'), (t.split('\n\n', 1) + [''])[:2])), ls, name)
                for t, ls in zip(ds[name]['text'], ds[name]['labels'])]
    return {name: recs(name) for name in ('train', 'valid', 'test')}


def write_parts(seed: int, task: str = 'single', out=None) -> Path:
    "Write one seed's parts and label map under `out` (default: a new temporary folder); the folder"
    from tagparrot.data import LABEL_PRESETS
    folder = Path(out or tempfile.mkdtemp(prefix='tagparrot-dev-')) / f"{task}-seed{seed}"
    folder.mkdir(parents=True, exist_ok=True)
    parts = single_label_parts(seed) if task == 'single' else multilabel_parts(seed)
    def dump(name, recs): (folder/name).write_text(''.join(json.dumps(r) + '\n' for r in recs))
    bare = lambda recs: [{k: v for k, v in r.items() if k != 'split'} for r in recs]  # the tagger trains on every issue it is given
    dump('train.jsonl', bare(parts['train'])); dump('valid.jsonl', parts['valid']); dump('test.jsonl', parts['test'])
    lmap = {l: l for l in SINGLE_LABELS} if task == 'single' else {l: l for l in sorted(set(LABEL_PRESETS['hf-datasets'].values()))}
    (folder/'labels.json').write_text(json.dumps(lmap))
    return folder


def _matrix(recs, labels): return np.array([[int(l in r['labels']) for l in labels] for r in recs])


def read_part(folder, name):
    from tagparrot.data import read_issues
    return read_issues(Path(folder)/f"{name}.jsonl")


def score_tags(Y, tags, labels) -> dict:
    from tagparrot.evaluation import f1_scores
    s = f1_scores(np.asarray(Y), np.asarray(tags), labels)
    return {'micro_f1': round(float(s['micro_f1']), 4), 'macro_f1': round(float(s['macro_f1']), 4)}


def evaluate_cli(folder, method: str, task: str = 'single', part: str = 'test', settings=(), seed: int = 0) -> dict:
    "Train through `tagparrot train` on the folder's training issues, tag its `part` through `tagparrot tag`; F1 and seconds"
    folder, run = Path(folder), lambda *a: subprocess.run([sys.executable, '-m', 'tagparrot', *a], check=True,
                                                          capture_output=True, text=True).stdout
    labels = sorted(set(json.loads((folder/'labels.json').read_text()).values()))
    with tempfile.TemporaryDirectory() as tmp:
        t0 = time.perf_counter()
        run('train', '--data', str(folder/'train.jsonl'), '--labels', str(folder/'labels.json'), '--task', task,
            '--method', method, '--seed', str(seed), '--out', f"{tmp}/tagger", *(['--set', *settings] if settings else []))
        train_s, t0 = time.perf_counter() - t0, time.perf_counter()
        answers = [json.loads(l) for l in run('tag', '--model', f"{tmp}/tagger", '--data', str(folder/f"{part}.jsonl")).splitlines()]
        tag_s = time.perf_counter() - t0
        chosen = json.loads(Path(tmp, 'tagger', 'tagger.json').read_text())['method']  # what `auto` picked
    recs = read_part(folder, part)
    tags = np.array([[int(l in a['labels']) for l in labels] for a in answers])
    return score_tags(_matrix(recs, labels), tags, labels) | {'chosen': chosen, 'issues': len(recs), 'train_s': round(train_s, 1), 'tag_s': round(tag_s, 1)}


def as_dataset(recs, labels) -> dict:
    "The `{'text', 'label_ids'}` columns a method's `fit` reads"
    from tagparrot.data import issue_text
    return {'text': [issue_text(r) for r in recs], 'label_ids': _matrix(recs, labels).tolist()}


def evaluate_direct(folder, method: str, task: str = 'single', parts=('valid',), settings: dict | None = None,
                    seed: int = 0) -> dict:
    "Fit the method class on the folder's training issues only and score `parts`: argmax (single) or per-label cuts fitted on valid"
    from tagparrot.core import set_seed
    from tagparrot.evaluation import DecisionRule
    from tagparrot.methods import get_method
    labels = sorted(set(json.loads(Path(folder, 'labels.json').read_text()).values()))
    recs = {n: read_part(folder, n) for n in ('train', 'valid', *parts)}
    train = as_dataset(recs['train'], labels)
    set_seed(seed); t0 = time.perf_counter()
    m = get_method(method, labels, **(settings or {})).fit(train)
    train_s, t0 = time.perf_counter() - t0, time.perf_counter()
    S = {n: m.predict_proba(as_dataset(recs[n], labels)['text']) for n in dict.fromkeys(('valid', *parts))}
    tag_s = time.perf_counter() - t0
    rule = DecisionRule('single' if task == 'single' else 'per-label').fit(S['valid'], _matrix(recs['valid'], labels))
    out = {'train_s': round(train_s, 1), 'tag_per_s': round(sum(len(v) for v in S.values()) / tag_s, 1)}
    for n in parts: out[n] = score_tags(_matrix(recs[n], labels), rule.decide(S[n]), labels)
    return out


def fit_setfit(train: dict, seed: int = 0, num_iterations: int = 5, max_length: int = 128, batch_size: int = 16,
               checkpoint: str = 'encoder'):
    "The setfit library's recipe on `train` (`text`, `label_ids`): contrastive pairs, then a logistic head; the model"
    from datasets import Dataset
    from setfit import SetFitModel, Trainer, TrainingArguments
    from tagparrot.core import resolve_checkpoint
    Y = np.asarray(train['label_ids'])
    single = bool((Y.sum(1) == 1).all())
    model = SetFitModel.from_pretrained(str(resolve_checkpoint(checkpoint).path), **({} if single else {'multi_target_strategy': 'one-vs-rest'}))
    model.model_body.max_seq_length = max_length  # setfit 1.2 tunes and encodes at the body's length; its max_length is the head's
    with tempfile.TemporaryDirectory() as out:
        args = TrainingArguments(output_dir=out, batch_size=batch_size, num_iterations=num_iterations, num_epochs=1,
                                 seed=seed, report_to='none', save_strategy='no', show_progress_bar=False)
        Trainer(model=model, args=args, train_dataset=Dataset.from_dict(
            {'text': list(train['text']), 'label': Y.argmax(1).tolist() if single else Y.tolist()})).train()
    return model


def setfit_scores(model, texts) -> np.ndarray:
    "Scores (issues x labels) of a setfit model; columns follow the label order of training"
    return np.asarray(model.predict_proba(list(texts)), dtype=float)


def main(argv=None):
    p = argparse.ArgumentParser('dev_benchmark', allow_abbrev=False, description=__doc__.split('\n')[0])
    p.add_argument('--method', required=True, help='a registered method name (required)')
    p.add_argument('--set', nargs='*', default=[], metavar='KEY=VALUE', help='method settings, as for tagparrot train')
    p.add_argument('--seeds', type=int, nargs='+', default=list(SEEDS), help='seeds (default: 0 1 2)')
    p.add_argument('--task', default='single', choices=['single', 'multi'], help='(default: %(default)s)')
    p.add_argument('--part', default='valid', choices=['valid', 'test'], help='the part scored; test for final figures only (default: %(default)s)')
    p.add_argument('--direct', action='store_true', help='fit the method class in this process instead of the command line')
    p.add_argument('--out', help='folder for the parts (default: a temporary folder)')
    a = p.parse_args(argv)
    from tagparrot.tagger import _settings
    f1s = []
    for seed in a.seeds:
        folder = write_parts(seed, a.task, a.out)
        r = (evaluate_direct(folder, a.method, a.task, (a.part,), _settings(a.set), seed) if a.direct else
             evaluate_cli(folder, a.method, a.task, a.part, a.set, seed))
        f1s.append((r[a.part] if a.direct else r)['macro_f1'])
        print(json.dumps({'seed': seed, 'method': a.method, 'task': a.task, 'part': a.part} | r), flush=True)
    print(f"macro_f1={np.mean(f1s):.4f} std={np.std(f1s):.4f} seeds={len(f1s)} per_seed={','.join(f'{f:.4f}' for f in f1s)}")


if __name__ == '__main__': main()
