"""Zero-shot and embedding-lookup methods at their edges: empty slice, a label absent from a slice, texts beyond
the model's window, whitespace-only texts, a checkpoint that is not installed, and the bench CLIs' last line."""
import contextlib, gzip, io, json, os, re, subprocess, sys
from pathlib import Path

os.environ.setdefault('HF_HUB_OFFLINE', '1'); os.environ.setdefault('TRANSFORMERS_OFFLINE', '1')
import numpy as np
import pytest
import torch
from datasets import Dataset

from tagparrot.cli import main
from tagparrot.core import TagparrotError
from tagparrot.data import load_issue_splits
from tagparrot.evaluation import DecisionRule, read_results
from tagparrot.runner import evaluate_slices
from tagparrot.methods import get_method
from tagparrot import knn, zeroshot, zeroshot_bench

torch.set_num_threads(1)
LABELS = ['bug', 'dataset request', 'documentation']
LAST_LINE = re.compile(r'ratio=[0-9.]+ equal=(true|false)')
ISSUES = [('load_dataset raises TypeError', 'bug'), ('crash in map with traceback', 'bug'),
          ('segfault when loading parquet', 'bug'), ('KeyError in the csv builder', 'bug'),
          ('add the SQuAD v3 dataset', 'dataset request'), ('please add ImageNet-21k', 'dataset request'),
          ('new dataset: CommonVoice 15', 'dataset request'), ('request: the Pile dataset', 'dataset request'),
          ('typo in the README', 'documentation'), ('docstring of map is wrong', 'documentation'),
          ('missing docs for streaming', 'documentation'), ('tutorial link broken in docs', 'documentation')]


@pytest.fixture(scope='module')
def issues_file(tmp_path_factory):
    "48 labeled issues in the GitHub API shape (four variants of twelve), gzip JSONL"
    p = tmp_path_factory.mktemp('issues')/'issues.jsonl.gz'
    with gzip.open(p, 'wt') as f:
        for i in range(4):
            for j, (title, label) in enumerate(ISSUES):
                f.write(json.dumps({'title': f'{title} ({i})', 'body': 'details ' * (j + 1), 'number': 12 * i + j,
                                    'labels': [{'name': label}], 'pull_request': None}) + '\n')
    return p


@pytest.fixture(scope='module')
def cache(tmp_path_factory): return str(tmp_path_factory.mktemp('embeddings'))


@pytest.fixture(scope='module')
def toy(): return Dataset.from_dict({'text': [t for t, _ in ISSUES], 'label_ids': [[int(l == n) for n in LABELS] for _, l in ISSUES]})


@pytest.mark.parametrize('name', ['zero-shot-embed', 'embedding-knn'])
def test_every_slice_gets_a_row(issues_file, tmp_path, cache, name):
    splits = load_issue_splits(issues_file, seed=0, sizes=(8, 16))
    rows = evaluate_slices(name, splits, seed=0, results=tmp_path/'r.csv', params={'preset': 'quick', 'cache_dir': cache})
    assert list(rows.train_size) == [len(s) for s in splits.slices for _ in range(2)] and rows.micro_f1.between(0, 1).all()
    assert list(rows.rule) == ['reference', 'tuned'] * len(splits.slice_sizes)  # one fit, one row per rule
    if name == 'zero-shot-embed': assert rows.groupby('rule').micro_f1.nunique().eq(1).all()  # no training data: one score for all slices
    assert len(read_results(tmp_path/'r.csv')) == 2 * len(splits.slice_sizes)


def test_empty_slice(toy, cache):
    empty = toy.select([])
    assert knn.EmbeddingKNN(LABELS, preset='quick', cache_dir=cache).fit(empty, toy).predict_proba(['crash']).tolist() == [[0, 0, 0]]
    z = zeroshot.ZeroShotEmbed(LABELS, preset='quick', cache_dir=cache).fit(empty, toy)
    p = z.predict_proba(['crash', 'add a dataset'])
    assert p.shape == (2, 3) and ((p >= 0) & (p <= 1)).all()
    assert DecisionRule('sweep').fit(z.predict_proba(toy['text']), toy['label_ids']).decide(p).shape == (2, 3)
    assert z.predict_proba([]).shape == (0, 3)


def test_label_absent_from_slice(toy, cache):
    no_docs = toy.filter(lambda r: r['label_ids'][2] == 0)
    m = knn.EmbeddingKNN(LABELS, preset='quick', cache_dir=cache).fit(no_docs, toy)
    p = m.predict_proba(list(toy['text']))
    assert p[:, 2].sum() == 0  # no neighbour carries it: its vote fraction is 0
    assert np.allclose(p * m.k, np.round(p * m.k)) and p.max() <= 1  # fractions of k votes
    rule = DecisionRule('threshold').fit(p, toy['label_ids'])  # the reference rule: one cut = m of k
    assert rule.decide(p)[:, 2].sum() == 0
    assert m.micro.shape == (min(17, len(no_docs)),) * 2


def test_long_and_whitespace_texts(toy, cache, tmp_path):
    texts = ['error ' * 5000, '   \n\t ', '']
    assert knn.EmbeddingKNN(LABELS, preset='quick', cache_dir=cache).fit(toy, toy).predict_proba(texts).shape == (3, 3)
    assert zeroshot.ZeroShotEmbed(LABELS, preset='quick', cache_dir=cache).fit(None, toy).predict_proba(texts).shape == (3, 3)
    from transformers import pipeline
    d = zeroshot_bench.toy_nli_model(tmp_path/'nli', steps=5)
    assert zeroshot.NLIScorer(d)(texts, LABELS).shape == (3, 3)
    texts = texts[:2]  # the pipeline itself refuses an empty string ("at least one sequence")
    fast = zeroshot.NLIScorer(d)(texts, LABELS)
    outs = pipeline('zero-shot-classification', model=str(d), device='cpu')(texts, LABELS, multi_label=True)
    ref = np.array([[dict(zip(o['labels'], o['scores']))[l] for l in LABELS] for o in outs])
    assert np.abs(fast - ref).max() < 1e-4


@pytest.mark.parametrize('name,role', [('zero-shot-embed', 'embedder'), ('embedding-knn', 'embedder'), ('zero-shot-nli', 'nli')])
def test_checkpoint_not_installed(name, role):
    with pytest.raises(TagparrotError, match="'no-such-org/no-such-model' is not available"):
        get_method(name, LABELS, checkpoint='no-such-org/no-such-model')
    if role == 'nli':  # the registry's default NLI model is a Hub id: offline it is a clear error, not a download
        with pytest.raises(TagparrotError, match="role 'nli' -> 'facebook/bart-large-mnli'"): get_method(name, LABELS)


def test_unknown_parameters():
    with pytest.raises(TagparrotError, match='unknown preset'): knn.EmbeddingKNN(LABELS, preset='huge')
    with pytest.raises(TagparrotError, match='unknown metric'): knn.EmbeddingKNN(LABELS, metric='hamming')
    with pytest.raises(TagparrotError, match='unknown aggregate'): zeroshot.ZeroShotEmbed(LABELS, aggregate='median')


@pytest.mark.parametrize('name,setting', [('zero-shot-embed', 'centre'), ('zero-shot-embed', 'select_by'),
                                          ('zero-shot-nli', 'max_seq_length'), ('embedding-knn', 'k')])
def test_unknown_settings_are_refused(name, setting):
    with pytest.raises(TagparrotError, match=setting): get_method(name, LABELS, **{setting: 1})


def test_presets_fill_only_settings_left_at_none():
    assert knn.EmbeddingKNN(LABELS, preset='quick', k_max=5).budget == knn.BUDGETS['quick'] | {'k_max': 5}
    assert zeroshot.ZeroShotEmbed(LABELS, preset='quick', max_unsup=7).budget['max_unsup'] == 7


def _last_line(fn, argv):
    buf = io.StringIO()
    with contextlib.redirect_stdout(buf): assert fn(argv) == 0
    return buf.getvalue().strip().splitlines()[-1]


def test_bench_functions_last_line():
    assert LAST_LINE.fullmatch(line := _last_line(knn.bench_cli, ['--k-max', '9'])) and line.endswith('equal=true')
    assert LAST_LINE.fullmatch(line := _last_line(zeroshot_bench.bench_cli, ['--texts', '1', '--chars', '80', '--threads', '1']))
    assert line.endswith('equal=true')


@pytest.mark.parametrize('argv', [['knn-grid'], ['zero-shot', '--texts', '1', '--chars', '80', '--threads', '1']])
def test_bench_console_script(argv):
    exe = Path(sys.executable).with_name('tagparrot')
    r = subprocess.run([str(exe), 'bench', *argv], capture_output=True, text=True, timeout=300,
                       env=os.environ | {'HF_HUB_OFFLINE': '1', 'TRANSFORMERS_OFFLINE': '1'})
    assert r.returncode == 0, r.stderr[-2000:]
    assert LAST_LINE.fullmatch(r.stdout.strip().splitlines()[-1])


def test_bench_bad_arguments_are_user_errors():
    assert main(['bench', 'no-such-bench']) == 1
