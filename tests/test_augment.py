"Augmentation: the same output in a fresh process, the notebook re-run by papermill with overridden parameters"
import os
os.environ.setdefault('HF_HUB_OFFLINE', '1'); os.environ.setdefault('TRANSFORMERS_OFFLINE', '1')
import json, subprocess, sys
from importlib.util import find_spec
from pathlib import Path

import pandas as pd
import pytest

import numpy as np
from datasets import Dataset, DatasetDict

from tagparrot.augment import NaiveBayesAug, augment_texts, op_effects, op_gains
from tagparrot.data import IssueSplits
from tagparrot.core import TagparrotError
from tagparrot.methods import get_method
from tagparrot.study import kernel_name

ROOT = Path(__file__).resolve().parents[1]
TEXTS = ['load_dataset fails with a connection error when streaming the parquet files',
         'please add the new speech dataset with its audio column and transcripts', '   ']


OPS = ['swap', 'delete', 'insert'] + (['synonym'] if find_spec('wn') and find_spec('nltk') else [])  # synonym: optional deps

def test_same_seed_same_output_in_a_fresh_process():
    "The per-text seed is a hash of (seed, round, text), not Python's salted `hash`: another process agrees"
    code = ('import json; from tagparrot.augment import augment_texts; '
            f'print(json.dumps([augment_texts({TEXTS!r}, op, n=2, seed=7) for op in {OPS!r}]))')
    env = {**os.environ, 'PYTHONHASHSEED': 'random'}
    out = subprocess.run([sys.executable, '-W', 'ignore', '-c', code], capture_output=True, text=True, env=env, cwd=ROOT)
    assert out.returncode == 0, out.stderr[-2000:]
    assert json.loads(out.stdout.splitlines()[-1]) == [augment_texts(TEXTS, op, n=2, seed=7) for op in OPS]


def test_missing_checkpoints_are_one_clear_error():
    with pytest.raises(TagparrotError, match='not available'):
        augment_texts(TEXTS, 'contextual', checkpoint='someone/not-installed-mlm')
    with pytest.raises(TagparrotError, match='opus-mt-en-de'):
        NaiveBayesAug(['bug'], ops='back-translation').fit({'text': TEXTS[:2], 'label_ids': [[1], [0]]})


@pytest.mark.slow
def test_notebook_reruns_under_papermill_with_overridden_parameters(tmp_path):
    params = {'methods': ['naive-bayes-aug', 'naive-bayes'], 'seeds': [1], 'sizes': [8, 16], 'preset': 'quick', 'results': str(tmp_path/'results.csv'),
              'figure': str(tmp_path/'augment')}
    cmd = [sys.executable, '-m', 'papermill', str(ROOT/'nbs'/'05_augment.ipynb'), str(tmp_path/'out.ipynb'),
           '-k', kernel_name(), '--cwd', str(ROOT/'nbs'), '--no-progress-bar', '-y', json.dumps(params)]
    env = {k: v for k, v in os.environ.items() if k != 'IN_TEST'}
    r = subprocess.run(cmd, capture_output=True, text=True, env=env, timeout=600)
    assert r.returncode == 0, r.stderr[-3000:]
    main, ops = pd.read_csv(tmp_path/'results.csv'), pd.read_csv(tmp_path/'augment_ops.csv')
    aug = main[main.method == 'naive-bayes-aug']
    assert set(main.method) == {'naive-bayes', 'naive-bayes-aug'} and set(main.seed) == {1} and len(aug) == 4  # two slices x two rules
    assert set(aug.rule) == {'reference', 'tuned'}
    assert aug.notes.str.contains('op=').all()
    assert {'none', 'copy', 'swap', 'contextual'} <= set(ops.notes.str.extract(r'op=(\S+)')[0])
    assert set(ops.split) == {'valid-half'}  # operations are compared on validation only
    assert (tmp_path/'augment.png').exists() and (tmp_path/'augment_ops.png').exists()


def test_op_effects_on_tiny_splits_resumes_and_takes_full(tmp_path):
    texts = ['load_dataset fails with an error', 'please add the squad dataset', 'map crashes on big files',
             'new dataset: common voice', 'streaming raises a KeyError', 'add imagenet to the hub'] * 4
    y = [[1, 0], [0, 1], [1, 0], [0, 1], [1, 0], [0, 1]] * 4
    part = lambda n: Dataset.from_dict({'text': texts[:n], 'labels': [[]] * n, 'label_ids': y[:n]})
    splits = IssueSplits(DatasetDict(train=part(24), valid=part(12), test=part(12), unsup=Dataset.from_dict({'text': texts})),
                         ['bug', 'dataset request'], [8, 24], [np.arange(8), np.arange(24)])
    path = tmp_path/'ops.csv'
    rows = op_effects(splits, ['none', 'copy', 'swap'], seed=0, sizes=[8, 'full'], path=path, progress=False)
    assert len(rows) == 12 and set(rows.train_size) == {8, 24} and set(rows.target_size) == {'8', 'full'}
    assert set(rows.split) == {'valid-half'} and set(rows.rule) == {'reference', 'tuned'}
    assert len(op_effects(splits, ['none', 'copy', 'swap'], seed=0, sizes=[8, 'full'], path=path, progress=False)) == 0
    g = op_gains(pd.read_csv(path, keep_default_na=False, dtype={'target_size': str}))
    assert (g[g.op == 'none'].micro_gain == 0).all() and set(g.op) == {'none', 'copy', 'swap'}


def test_the_operation_is_chosen_by_validation_ranking_and_settings_are_explicit():
    texts = ['load_dataset fails with an error', 'please add the squad dataset', 'map crashes on big files', 'new dataset: common voice']
    train = {'text': texts, 'label_ids': [[1, 0], [0, 1], [1, 0], [0, 1]]}
    m = NaiveBayesAug(['bug', 'dataset request'], ops=['none', 'copy', 'swap'], seed=0).fit(train, Dataset.from_dict(train))
    assert m.valid_scores[m.op] == max(m.valid_scores.values()) and 'valid_macro_ap' in m.notes
    p = m.predict_proba(['crash with an error'])
    assert p.shape == (1, 2) and ((p >= 0) & (p <= 1)).all()
    for bad in ({'op': 'swap'}, {'threshold': 0.3}, {'select_by': 'micro'}):
        with pytest.raises(TagparrotError, match=next(iter(bad))): get_method('naive-bayes-aug', ['bug'], **bad)
