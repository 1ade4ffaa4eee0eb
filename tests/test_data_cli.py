"Fault injection through the `tagparrot data` command: bad input exits non-zero with one line naming file and line."
import gzip, json, os, subprocess, sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
CLI = [str(Path(sys.executable).with_name('tagparrot'))]
GOOD = {'title': 'load_dataset crashes', 'body': 'Traceback ...', 'labels': [{'name': 'bug'}]}


def run(*args):
    return subprocess.run(CLI + list(args), capture_output=True, text=True, cwd=ROOT, timeout=300)


def write(tmp_path, name, lines):
    p = tmp_path/name
    p.write_text('\n'.join(lines) + '\n')
    return p


def good_lines(n=20):
    return [json.dumps({**GOOD, 'title': f'issue {i}', 'labels': [{'name': 'bug' if i % 2 else 'documentation'}]})
            for i in range(n)]


def assert_one_line_error(r, *fragments):
    assert r.returncode != 0
    assert 'Traceback' not in r.stderr
    err = r.stderr.strip().splitlines()
    assert len(err) == 1, r.stderr
    for f in fragments: assert f in err[0], err[0]


def test_default_file_report():
    r = run('data')
    assert r.returncode == 0, r.stderr
    rep = json.loads(r.stdout.strip().splitlines()[-1])
    assert rep['rows'] == 7258 and rep['labeled'] + rep['unlabeled'] == 7258
    assert rep['slice_sizes']['target'] == [8, 16, 32, 64, 128, 256, 'full']
    assert set(rep['split_sizes']) == {'train', 'valid', 'test', 'unsup'}


@pytest.mark.parametrize('bad_line, fragment', [
    ('{"title": "cut', 'not valid JSON'),
    ('this is not json', 'not valid JSON'),
    (json.dumps({'body': 'no title', 'labels': []}), "field 'title'"),
    (json.dumps({'title': 't', 'body': 'b', 'labels': 'bug'}), "field 'labels' must be a list"),
    (json.dumps({'title': 't', 'body': 7, 'labels': []}), "field 'body'"),
])
def test_bad_line_is_named(tmp_path, bad_line, fragment):
    lines = good_lines()
    lines.insert(5, bad_line)
    p = write(tmp_path, 'issues.jsonl', lines)
    assert_one_line_error(run('data', '--data', str(p)), f'{p}:6', fragment)


def test_skip_bad_keeps_the_rest(tmp_path):
    lines = good_lines(40)
    lines[3] = 'garbage'
    r = run('data', '--data', str(write(tmp_path, 'issues.jsonl', lines)), '--skip-bad', '--labels', 'hf-datasets')
    assert r.returncode == 0, r.stderr
    assert 'skipped 1 bad line' in r.stdout
    assert json.loads(r.stdout.strip().splitlines()[-1])['rows'] == 39


def test_empty_file(tmp_path):
    p = tmp_path/'empty.jsonl'
    p.write_text('')
    assert_one_line_error(run('data', '--data', str(p)), 'no issue records')


def test_huge_body(tmp_path):
    lines = good_lines()
    lines[2] = json.dumps({'title': 'huge', 'body': 'x' * 50_000_000, 'labels': []})
    assert_one_line_error(run('data', '--data', str(write(tmp_path, 'big.jsonl', lines))), ':3', "field 'body'")


def test_gzip_cut_short(tmp_path):
    lines = [json.dumps({**GOOD, 'title': f'issue {i}', 'body': os.urandom(40).hex()}) for i in range(3000)]
    data = gzip.compress(('\n'.join(lines) + '\n').encode())
    p = tmp_path/'cut.jsonl.gz'
    p.write_bytes(data[:len(data) // 2])
    assert_one_line_error(run('data', '--data', str(p)), 'cut short')


def test_missing_file_and_unknown_preset(tmp_path):
    assert_one_line_error(run('data', '--data', str(tmp_path/'nope.jsonl')), 'no such file')
    assert_one_line_error(run('data', '--labels', 'nope'), "unknown label preset 'nope'")


def test_too_few_labeled(tmp_path):
    lines = [json.dumps({'title': f't{i}', 'body': None, 'labels': []}) for i in range(5)]
    assert_one_line_error(run('data', '--data', str(write(tmp_path, 'nolabels.jsonl', lines))), 'need at least 8')


def test_reference_study_file_shape_loads_unchanged(tmp_path):
    "Records shaped like the spec's github-issues-transformers.jsonl (no pull_request key on issues) with its label map"
    names = ['Core: Tokenization', 'New model', 'Core: Modeling', 'Usage', 'Core: Pipeline', 'TensorFlow', 'PyTorch',
             'Examples', 'Documentation', 'wontfix', 'model card']
    recs = [{'url': f'https://api.github.com/repos/huggingface/transformers/issues/{i}', 'id': i, 'number': i,
             'title': f'issue {i}', 'user': {'login': 'someone'}, 'state': 'open', 'created_at': '2021-04-02 23:40:42',
             'labels': [{'id': j, 'name': names[j], 'color': '4D34F7', 'default': False, 'description': ''}
                        for j in {i % 11, (i * 7) % 11}] if i % 3 else [],
             'body': None if i % 5 == 0 else f'body {i} ' * 10} for i in range(300)]
    p = tmp_path/'github-issues-transformers.jsonl'
    p.write_text(''.join(json.dumps(r) + '\n' for r in recs))
    r = run('data', '--data', str(p), '--labels', 'transformers')
    assert r.returncode == 0, r.stderr
    rep = json.loads(r.stdout.strip().splitlines()[-1])
    assert rep['rows'] == 300 and rep['pull_requests'] == 0 and len(rep['label_counts']) == 9
