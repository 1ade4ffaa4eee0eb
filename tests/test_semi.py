"UDA, UST and the contrastive method on the real data at quick budgets: rows, resumption, determinism, edge cases"
import os
os.environ.setdefault('HF_HUB_OFFLINE', '1'); os.environ.setdefault('TRANSFORMERS_OFFLINE', '1')
import numpy as np
import pytest
import torch

from tagparrot.core import TagparrotError, set_seed
from tagparrot.data import load_issue_splits
from tagparrot.evaluation import DecisionRule, read_results
from tagparrot.runner import evaluate_slices
from tagparrot.methods import get_method

torch.set_num_threads(2)
METHODS = ['contrastive', 'uda', 'ust']


@pytest.fixture(scope='module')
def splits():
    s = load_issue_splits(None, 'hf-datasets', seed=0)
    s.ds['valid'], s.ds['test'] = s.ds['valid'].select(range(48)), s.ds['test'].select(range(48))
    s.ds['unsup'] = s.ds['unsup'].select(range(64))
    return s


@pytest.mark.slow
def test_rows_for_every_method_and_a_clean_resume(splits, tmp_path):
    out = tmp_path / 'results.csv'
    for m in METHODS:
        rows = evaluate_slices(m, splits, seed=0, sizes=[8], results=out, params={'preset': 'quick'})
        assert list(rows.rule) == ['reference', 'tuned'] and rows.macro_f1.between(0, 1).all()  # one fit, one row per rule
        assert 'absent from slice' in rows.notes[0]
    again = [evaluate_slices(m, splits, seed=0, sizes=[8], results=out, params={'preset': 'quick'}) for m in METHODS]
    assert all(len(r) == 0 for r in again)  # an interrupted study restarts without redoing finished rows
    assert sorted(read_results(out).method) == sorted(METHODS * 2)


def test_same_seed_same_predictions(splits):
    train, texts = splits.train_slice(8), list(splits.ds['test']['text'][:16])
    preds = []
    for _ in range(2):
        set_seed(3)
        preds.append(get_method('ust', splits.labels, preset='quick').fit(train, splits.ds['valid'], splits.ds['unsup']).predict_proba(texts))
    np.testing.assert_allclose(preds[0], preds[1], atol=1e-6)


def test_labels_absent_from_the_slice_score_zero(splits):
    train = splits.train_slice(8)
    m = get_method('uda', splits.labels, preset='quick').fit(train, None, None)  # the method reads no validation split
    S = m.predict_proba(list(splits.ds['test']['text']))
    assert S.shape == (48, len(splits.labels)) and ((S >= 0) & (S <= 1)).all() and (S[:, m.absent] == 0).all()
    assert DecisionRule('fixed').decide(S)[:, m.absent].sum() == 0


def test_unknown_preset_is_a_clear_error():
    with pytest.raises(TagparrotError, match='unknown preset'):
        get_method('contrastive', ['bug'], preset='huge')


@pytest.mark.parametrize('name,setting', [('uda', 'temprature'), ('ust', 'uda_weight'), ('contrastive', 'train_encoder'),
                                          ('uda', 'fallback'), ('contrastive', 'min_f1')])
def test_unknown_settings_are_refused(name, setting):
    with pytest.raises(TagparrotError, match=setting): get_method(name, ['bug'], **{setting: 1})


def test_presets_fill_only_settings_left_at_none():
    m = get_method('ust', ['bug'], preset='quick', steps=3, sampling='hard')
    assert m.budget['steps'] == 3 and m.budget['sampling'] == 'hard' and m.budget['rounds'] == 1
