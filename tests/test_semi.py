"UDA, UST and the contrastive method on the real data at quick budgets: rows, resumption, determinism, edge cases"
import os
os.environ.setdefault('HF_HUB_OFFLINE', '1'); os.environ.setdefault('TRANSFORMERS_OFFLINE', '1')
import numpy as np
import pytest
import torch

from tagparrot.core import TagparrotError, set_seed
from tagparrot.data import load_issue_splits
from tagparrot.evaluation import evaluate_slices, get_method, read_results

torch.set_num_threads(2)
METHODS = ['contrastive', 'uda', 'ust']


@pytest.fixture(scope='module')
def splits():
    s = load_issue_splits(None, 'hf-datasets', seed=0)
    s.ds['valid'], s.ds['test'] = s.ds['valid'].select(range(48)), s.ds['test'].select(range(48))
    s.ds['unsup'] = s.ds['unsup'].select(range(64))
    return s


def test_rows_for_every_method_and_a_clean_resume(splits, tmp_path):
    out = tmp_path / 'results.csv'
    for m in METHODS:
        rows = evaluate_slices(m, splits, seed=0, sizes=[8], results=out, params={'preset': 'quick'})
        assert len(rows) == 1 and 0 <= rows.macro_f1[0] <= 1
        assert 'absent from slice' in rows.notes[0]
    again = [evaluate_slices(m, splits, seed=0, sizes=[8], results=out, params={'preset': 'quick'}) for m in METHODS]
    assert all(len(r) == 0 for r in again)  # an interrupted study restarts without redoing finished rows
    assert sorted(read_results(out).method) == sorted(METHODS)


def test_same_seed_same_predictions(splits):
    train, texts = splits.train_slice(8), list(splits.ds['test']['text'][:16])
    preds = []
    for _ in range(2):
        set_seed(3)
        preds.append(get_method('ust', splits.labels, preset='quick').fit(train, splits.ds['valid'], splits.ds['unsup']).predict_proba(texts))
    np.testing.assert_allclose(preds[0], preds[1], atol=1e-6)


def test_without_validation_labels_absent_from_the_slice_are_never_predicted(splits):
    train = splits.train_slice(8)
    m = get_method('uda', splits.labels, preset='quick').fit(train, None, None)
    pred = m.predict(list(splits.ds['test']['text']))
    assert pred.shape == (48, len(splits.labels)) and pred[:, m.absent].sum() == 0


def test_unknown_preset_is_a_clear_error():
    with pytest.raises(TagparrotError, match='unknown preset'):
        get_method('contrastive', ['bug'], preset='huge')
