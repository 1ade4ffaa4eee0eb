"suggest and check-labels on a small file: a saved naive-bayes tagger asks for unlabeled issues only, planted label errors come first, bad input gets one line."
import contextlib, io, json

import numpy as np
import pandas as pd
import pytest

from tagparrot.core import TagparrotError
from tagparrot.labeling import check_labels_cli, suggest_cli
from tagparrot.tagger import train_tagger

TOPICS = {'crash': 'bug', 'docs': 'documentation', 'feature': 'enhancement'}
WORDS = {'crash': 'traceback error fails exception', 'docs': 'typo page link readme', 'feature': 'please add support option'}


def issues(n, seed=0, first=0, labeled=True):
    "Issues whose title and body name their topic; every seventh crash is also documentation"
    rng = np.random.default_rng(seed)
    rows = []
    for i in range(first, first + n):
        t = list(TOPICS)[i % 3]
        labels = [TOPICS[t]] + (['documentation'] if t == 'crash' and i % 7 == 0 else [])
        rows.append({'number': i, 'title': f'{t} report {i} {rng.integers(10**6)}', 'body': f"{WORDS[t]} line\nsecond line {i}",
                     'labels': ', '.join(labels) if labeled else ''})
    return pd.DataFrame(rows)


def lines_of(fn, argv):
    out = io.StringIO()
    with contextlib.redirect_stdout(out): assert fn(argv) == 0
    return [json.loads(l) for l in out.getvalue().splitlines()]


@pytest.fixture(scope='module')
def files(tmp_path_factory):
    d = tmp_path_factory.mktemp('labeling')
    issues(60).to_csv(d/'issues.csv', index=False)
    pd.concat([issues(12), issues(24, seed=1, first=100, labeled=False)]).to_csv(d/'mixed.csv', index=False)
    train_tagger(str(d/'issues.csv'), method='naive-bayes').save(d/'nb')
    return d


@pytest.mark.parametrize('strategy', ['uncertainty', 'diversity', 'hybrid', 'random'])
def test_suggest_ranks_only_unlabeled_issues_with_a_reason(files, strategy):
    lines = lines_of(suggest_cli, ['--model', str(files/'nb'), '--data', str(files/'mixed.csv'), '--n', '6', '--strategy', strategy])
    assert len(lines) == 6 and len({l['number'] for l in lines}) == 6
    assert all(int(l['number']) >= 100 and l['strategy'] == strategy and l['why'] for l in lines)
    assert [l['score'] for l in lines] == sorted((l['score'] for l in lines), reverse=True) or strategy in ('random', 'diversity')
    if strategy == 'uncertainty': assert all(l['why'].startswith('uncertain about') for l in lines)
    if strategy == 'diversity':  # the six clusters nobody labeled: the three topics of the unlabeled issues are all asked about
        assert {l['title'].split()[0] for l in lines} == set(TOPICS), lines


def test_suggest_without_a_number_column_names_rows(files, tmp_path):
    issues(9, labeled=False).drop(columns='number').to_json(tmp_path/'new.jsonl', orient='records', lines=True)
    lines = lines_of(suggest_cli, ['--model', str(files/'nb'), '--data', str(tmp_path/'new.jsonl'), '--n', '3'])
    assert all(1 <= l['row'] <= 9 for l in lines) and 'number' not in lines[0]


def test_check_labels_puts_planted_errors_first(tmp_path):
    df = issues(60)
    df.loc[[3, 9, 15], 'labels'] = 'enhancement'      # crashes labeled as feature requests
    df.loc[[4], 'labels'] = 'documentation, bug'       # a docs issue with a wrong extra label
    df.to_csv(tmp_path/'bad.csv', index=False)
    lines = lines_of(check_labels_cli, ['--data', str(tmp_path/'bad.csv'), '--method', 'naive-bayes', '--n', '6'])
    assert {l['number'] for l in lines[:3]} == {'3', '9', '15'}, lines
    assert '4' in [l['number'] for l in lines], lines  # behind the swaps and the crashes that also carry documentation
    swapped = lines[:3]
    assert all(l['missing'] == ['bug'] and l['wrong'] == ['enhancement'] and l['given'] == ['enhancement'] for l in swapped)
    assert [l['quality'] for l in lines] == sorted(l['quality'] for l in lines)
    default = lines_of(check_labels_cli, ['--data', str(tmp_path/'bad.csv'), '--method', 'naive-bayes'])
    assert len(default) == 20 and all(l['flagged'] for l in default[:3])  # cleanlab's verdict rides along


def test_check_labels_default_model_runs_on_a_small_file(files):
    lines = lines_of(check_labels_cli, ['--data', str(files/'issues.csv'), '--folds', '3', '--n', '5'])
    assert len(lines) == 5 and all(set(l) >= {'number', 'title', 'given', 'quality', 'why'} for l in lines)


@pytest.mark.parametrize('argv, message', [
    (['--data', 'nowhere.csv'], 'nowhere.csv: no such file'),
    (['--data', '{issues}', '--n', '0'], '--n must be at least 1'),
    (['--data', '{mixed}', '--model', '{issues}'], 'no such folder'),
    (['--data', '{issues}'], 'no unlabeled issues'),
    (['--repo', 'just-a-name'], "expected owner/name, got 'just-a-name'"),
])
def test_suggest_bad_input_is_one_line(files, argv, message):
    argv = [a.format(issues=files/'issues.csv', mixed=files/'mixed.csv') for a in argv]
    if '--model' not in argv: argv = ['--model', str(files/'nb')] + argv
    with pytest.raises(TagparrotError, match=message) as e: suggest_cli(argv)
    assert '\n' not in str(e.value)


@pytest.mark.parametrize('argv, message', [
    (['--data', 'nowhere.csv'], 'nowhere.csv: no such file'),
    (['--data', '{issues}', '--folds', '1'], '--folds must be at least 2'),
    (['--data', '{issues}', '--folds', '40', '--method', 'naive-bayes'], 'too few for 40 folds'),
    (['--data', '{broken}'], r'broken.jsonl:2'),
])
def test_check_labels_bad_input_is_one_line(files, argv, message):
    (files/'broken.jsonl').write_text('{"title": "ok", "body": "", "labels": ["bug"]}\n{"title": 3}\n')
    argv = [a.format(issues=files/'issues.csv', broken=files/'broken.jsonl') for a in argv]
    with pytest.raises(TagparrotError, match=message) as e: check_labels_cli(argv)
    assert '\n' not in str(e.value)


@pytest.mark.parametrize('fn, name', [(suggest_cli, 'suggest'), (check_labels_cli, 'check-labels')])
def test_help_ends_with_an_example(fn, name, capsys):
    with pytest.raises(SystemExit): fn(['--help'])
    assert capsys.readouterr().out.rstrip().splitlines()[-1].strip().startswith(f'tagparrot {name} ')
