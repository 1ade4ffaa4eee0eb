"Fine-tuning and domain adaptation on tiny budgets: shapes, resuming an interrupted study, the MLM cache's atomicity"
import os
os.environ.setdefault('HF_HUB_OFFLINE', '1'); os.environ.setdefault('TRANSFORMERS_OFFLINE', '1')
import json

import numpy as np
import pandas as pd
import pytest
from datasets import Dataset, DatasetDict

from tagparrot.core import set_seed
from tagparrot.data import IssueSplits
from tagparrot.domain import FineTuneDA, adapt_mlm
from tagparrot.evaluation import evaluate_slices, read_results
from tagparrot.finetune import FineTune

LABELS = ['bug', 'dataset request', 'docs']
TEXTS = ['load_dataset fails with an error', 'please add the squad dataset', 'map crashes on big files',
         'new dataset: common voice', 'typo in the docs', 'streaming raises a KeyError', 'add imagenet',
         'fix the README example']
Y = [[1, 0, 0], [0, 1, 0], [1, 0, 0], [0, 1, 0], [0, 0, 1], [1, 0, 0], [0, 1, 0], [0, 0, 1]]


def tiny_splits() -> IssueSplits:
    part = lambda n: Dataset.from_dict({'text': (TEXTS * 4)[:n], 'labels': [[]] * n, 'label_ids': (Y * 4)[:n]})
    ds = DatasetDict(train=part(16), valid=part(8), test=part(8), unsup=Dataset.from_dict({'text': TEXTS * 3}))
    return IssueSplits(ds, LABELS, [8, 16], [np.arange(8), np.arange(16)])


@pytest.fixture()
def models_dir(tmp_path): return tmp_path/'models'


def test_finetune_shapes_and_absent_label():
    set_seed(0)
    train = Dataset.from_dict({'text': TEXTS, 'label_ids': [y[:2] + [0] for y in Y]})  # 'docs' never positive
    m = FineTune(LABELS, preset='quick', progress=False).fit(train, train)
    pred = m.predict(['crash', 'add a dataset', 'docs'])
    assert pred.shape == (3, 3) and set(np.unique(pred)) <= {0, 1}
    assert m.predict_proba(['crash']).shape == (1, 3)


def test_finetune_da_shapes(models_dir):
    set_seed(0)
    train = Dataset.from_dict({'text': TEXTS, 'label_ids': Y})
    m = FineTuneDA(LABELS, preset='quick', progress=False, models_dir=models_dir)
    m.fit(train, train, Dataset.from_dict({'text': TEXTS * 3}))
    assert m.predict(TEXTS[:5]).shape == (5, 3)
    assert (m.adapted/'README.md').exists() and m.adapted.parent == models_dir


def test_interrupted_study_keeps_rows_and_resumes(tmp_path, monkeypatch):
    out = tmp_path/'results.csv'
    splits = tiny_splits()
    real_fit = FineTune.fit
    def flaky_fit(self, train, valid=None, unsup=None):
        if len(train) > 8: raise KeyboardInterrupt  # the study is stopped during the second slice
        return real_fit(self, train, valid, unsup)
    monkeypatch.setattr(FineTune, 'fit', flaky_fit)
    with pytest.raises(KeyboardInterrupt):
        evaluate_slices('finetune', splits, seed=0, results=out, params={'preset': 'quick', 'progress': False})
    assert read_results(out).train_size.tolist() == [8]
    monkeypatch.setattr(FineTune, 'fit', real_fit)
    new = evaluate_slices('finetune', splits, seed=0, results=out, params={'preset': 'quick', 'progress': False})
    assert new.train_size.tolist() == [16]  # the finished slice is not redone
    assert sorted(read_results(out).train_size.tolist()) == [8, 16]


def test_mlm_interrupted_leaves_no_finished_looking_folder(tmp_path, monkeypatch):
    out = tmp_path/'mlm'
    def crash(*a, **k): raise KeyboardInterrupt
    monkeypatch.setattr(pd.DataFrame, 'to_csv', crash)  # dies while writing the folder
    with pytest.raises(KeyboardInterrupt):
        adapt_mlm(TEXTS, out, max_steps=1, batch_size=4, progress=False)
    monkeypatch.undo()
    assert not out.exists() and not [p for p in tmp_path.iterdir() if '.tmp-' in p.name]
    # a process killed outright leaves its temporary folder behind, and a stale folder may hold a partial model:
    (tmp_path/'.mlm.tmp-killed').mkdir(); out.mkdir(); (out/'config.json').write_text('{}')
    done = adapt_mlm(TEXTS, out, max_steps=1, batch_size=4, progress=False)
    assert json.loads((done/'params.json').read_text())['max_steps'] == 1
    assert (done/'model.safetensors').exists() and (done/'loss.csv').exists()
