"Integration tests of tagparrot.future.beyond: the `tagparrot beyond-text --quick` contract, seeded models, the offline skips"
import csv, os, re, subprocess, sys
from pathlib import Path

import numpy as np
import pytest

from tagparrot.future.beyond import (BOOK_CHAPTERS, PixelGPT, ViTClassifier, answer_table_questions, book_table,
                              load_digit_splits, run_beyond_text, transcribe)
from tagparrot.core import TagparrotError

ROOT = Path(__file__).resolve().parents[1]
TAGPARROT = Path(sys.executable).parent/'tagparrot'
FLOAT = r'\d\.\d{4}'

@pytest.mark.slow
def test_beyond_text_quick_console_script(tmp_path):
    env = dict(os.environ, HF_HUB_OFFLINE='1', TRANSFORMERS_OFFLINE='1', MPLBACKEND='Agg')
    out = subprocess.run([str(TAGPARROT), 'beyond-text', '--quick', '--results', str(tmp_path), '--figures', str(tmp_path)],
                         capture_output=True, text=True, cwd=ROOT, env=env, timeout=600)
    assert out.returncode == 0, out.stderr[-2000:]
    lines = out.stdout.strip().splitlines()
    assert re.fullmatch(rf'vit_acc={FLOAT} clip_acc={FLOAT}', lines[-1]), lines[-1]
    assert any(l.startswith('table-question-answering skipped: checkpoint') for l in lines)
    assert any(l.startswith('automatic-speech-recognition skipped: checkpoint') for l in lines)
    rows = list(csv.DictReader((tmp_path/'beyond_text.csv').open()))
    assert {r['experiment'] for r in rows} == {'vision', 'igpt', 'clip', 'hub-pipeline'}
    assert {r['model'] for r in rows if r['experiment'] == 'vision'} == {'vit', 'cnn', 'logistic'}
    vit = next(r for r in rows if r['model'] == 'vit')
    assert f"vit_acc={float(vit['value']):.4f}" == lines[-1].split()[0]
    assert sorted(p.name for p in tmp_path.glob('*.png')) == ['beyond_clip_prompts.png', 'beyond_igpt_completions.png', 'beyond_vision.png']

def test_models_are_seeded():
    s = load_digit_splits()
    fit = lambda: ViTClassifier(epochs=1, batch_size=128, layers=1).fit(s.train_x[:200], s.train_y[:200]).predict_proba(s.test_x[:10])
    assert np.array_equal(fit(), fit())
    gpt = PixelGPT(n_layer=1, n_embd=32, n_head=2, epochs=1).fit(s.train_x[:128])
    a, b = gpt.complete(s.test_x[:3], n_samples=2, seed=1), gpt.complete(s.test_x[:3], n_samples=2, seed=1)
    assert np.array_equal(a, b) and np.array_equal(a[:, :, :4], np.repeat(s.test_x[:3, None, :4], 2, 1))

def test_split_is_stratified_and_fixed():
    a, b = load_digit_splits(seed=0), load_digit_splits(seed=0)
    assert np.array_equal(a.test_y, b.test_y) and len(a.train_x) + len(a.test_x) == 1797
    assert np.bincount(a.test_y).min() >= 50

def test_table_and_speech_skip_offline(monkeypatch):
    monkeypatch.setenv('HF_HUB_OFFLINE', '1')
    t = book_table()
    assert t.name.tolist() == [n for n, _, _ in BOOK_CHAPTERS] and t.number_of_pages.iloc[3] == '46'
    for call in (lambda: answer_table_questions(t), lambda: transcribe(np.zeros(800))):
        with pytest.raises(TagparrotError) as e: call()
        assert '\n' not in str(e.value) and 'HF_HUB_OFFLINE=1' in str(e.value)

def test_table_and_speech_skip_when_the_hub_is_unreachable(monkeypatch):
    "No switch set and no network (here: a Hub address whose port is closed): the same one-line error as switched off"
    import socket
    with socket.socket() as s: s.bind(('127.0.0.1', 0)); endpoint = f"http://127.0.0.1:{s.getsockname()[1]}"
    for v in ('HF_HUB_OFFLINE', 'TRANSFORMERS_OFFLINE'): monkeypatch.delenv(v, raising=False)
    monkeypatch.setenv('HF_ENDPOINT', endpoint)
    for call in (lambda: answer_table_questions(book_table()), lambda: transcribe(np.zeros(800))):
        with pytest.raises(TagparrotError) as e: call()
        assert '\n' not in str(e.value) and f'the Hub is not reachable ({endpoint} did not answer)' in str(e.value)

def test_unknown_preset():
    with pytest.raises(TagparrotError, match="unknown preset 'huge'"): run_beyond_text('huge')
