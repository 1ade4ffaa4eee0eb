"Fine-tuning and domain adaptation on tiny budgets: the method face, model selection, the MLM cache's atomicity and resume"
import os
os.environ.setdefault('HF_HUB_OFFLINE', '1'); os.environ.setdefault('TRANSFORMERS_OFFLINE', '1')
import json

import numpy as np
import pandas as pd
import pytest
from datasets import Dataset

import tagparrot.domain as domain
from tagparrot.core import TagparrotError, set_seed
from tagparrot.domain import FineTuneDA, adapt_mlm, read_loss_curve
from tagparrot.finetune import FineTune, stratified_sample

LABELS = ['bug', 'dataset request', 'docs']
TEXTS = ['load_dataset fails with an error', 'please add the squad dataset', 'map crashes on big files',
         'new dataset: common voice', 'typo in the docs', 'streaming raises a KeyError', 'add imagenet',
         'fix the README example']
Y = [[1, 0, 0], [0, 1, 0], [1, 0, 0], [0, 1, 0], [0, 0, 1], [1, 0, 0], [0, 1, 0], [0, 0, 1]]


@pytest.fixture()
def models_dir(tmp_path): return tmp_path/'models'


def test_finetune_scores_and_absent_label():
    set_seed(0)
    train = Dataset.from_dict({'text': TEXTS, 'label_ids': [y[:2] + [0] for y in Y]})  # 'docs' never positive
    m = FineTune(LABELS, preset='quick', progress=False).fit(train, Dataset.from_dict({'text': TEXTS, 'label_ids': Y}))
    p = m.predict_proba(['crash', 'add a dataset', 'docs'])
    assert p.shape == (3, 3) and p.dtype == np.float32 and ((0 <= p) & (p <= 1)).all()
    assert 'valid_n=8' in m.notes and m.history[0]['macro_ap'] > 0


@pytest.mark.parametrize('setting', [{'threshold': 0.5}, {'epochs': 3}, {'max_valid': 32}])
def test_unknown_settings_are_refused(setting):
    with pytest.raises(TypeError, match=next(iter(setting))): FineTune(LABELS, preset='quick', **setting)
    with pytest.raises(TypeError, match=next(iter(setting))): FineTuneDA(LABELS, preset='quick', **setting)


def test_unknown_preset_and_mlm_entry_are_refused():
    with pytest.raises(TagparrotError, match='unknown preset'): FineTune(LABELS, preset='huge')
    with pytest.raises(TagparrotError, match='epochz'): FineTuneDA(LABELS, preset='quick', mlm={'epochz': 1})


def test_selection_sample_covers_every_label_not_file_order():
    # the first issues of the file carry the two frequent labels only, as in the issues' validation split
    Yv = np.zeros((417, 12), int); Yv[:, 1] = 1; Yv[300:, 8] = 1
    for j in (0, 2, 3, 4, 5, 6, 7, 9, 10, 11): Yv[400 + j % 17, j] = 1
    idx = stratified_sample(Yv, 32, seed=0)
    assert len(idx) == 32 and (Yv[idx].sum(0) > 0).all()
    assert (Yv[:32].sum(0) > 0).sum() == 1


@pytest.mark.slow
def test_finetune_da_shapes(models_dir):
    set_seed(0)
    train = Dataset.from_dict({'text': TEXTS, 'label_ids': Y})
    m = FineTuneDA(LABELS, preset='quick', progress=False, models_dir=models_dir)
    m.fit(train, train, Dataset.from_dict({'text': TEXTS * 3}))
    assert m.predict_proba(TEXTS[:5]).shape == (5, 3)
    assert (m.adapted/'README.md').exists() and m.adapted.parent == models_dir
    assert json.loads((m.adapted/'params.json').read_text())['unigram_loss'] > 0


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


@pytest.mark.slow
def test_mlm_resumes_an_interrupted_epoch_and_matches_an_uninterrupted_run(tmp_path, monkeypatch):
    from safetensors.numpy import load_file
    kw = dict(epochs=2, batch_size=4, max_length=16, eval_texts=TEXTS[:2], progress=False)
    whole = adapt_mlm(TEXTS, tmp_path/'whole', **kw)
    real, calls = domain.masked_lm_loss, []
    def dies_in_epoch_two(model, batch):
        calls.append(1)
        if len(calls) == 4: raise KeyboardInterrupt  # the step-0 evaluation, 2 steps per epoch, then epoch two
        return real(model, batch)
    monkeypatch.setattr(domain, 'masked_lm_loss', dies_in_epoch_two)
    with pytest.raises(KeyboardInterrupt): adapt_mlm(TEXTS, tmp_path/'resumed', **kw)
    assert (tmp_path/'.resumed.partial'/'state.pt').exists() and not (tmp_path/'resumed').exists()
    monkeypatch.undo()
    resumed = adapt_mlm(TEXTS, tmp_path/'resumed', **kw)
    assert not (tmp_path/'.resumed.partial').exists()
    a, b = load_file(whole/'model.safetensors'), load_file(resumed/'model.safetensors')
    assert all(np.allclose(a[k], b[k], atol=1e-6) for k in a)
    assert read_loss_curve(resumed).equals(read_loss_curve(whole))
