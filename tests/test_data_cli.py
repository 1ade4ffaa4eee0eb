"Fault injection through the `tagparrot data` command: bad input exits non-zero with one line naming file and line."
import gzip, json, os, subprocess, sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
CLI = [str(Path(sys.executable).with_name('tagparrot'))]
GOOD = {'title': 'load_dataset crashes', 'body': 'Traceback ...', 'labels': [{'name': 'bug'}]}


def run(*args, cwd=ROOT, env=None):
    return subprocess.run(CLI + list(args), capture_output=True, text=True, cwd=cwd, timeout=300,
                          env={**os.environ, **(env or {})})


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
    (json.dumps({'title': 't', 'body': 'b', 'labels': 7}), "field 'labels' must be a list"),
    (json.dumps({'title': 't', 'body': 'b', 'split': 'holdout'}), "field 'split' must be one of train, valid, test"),
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


def flat_csv(tmp_path, n=40, name='flat.csv', **extra):
    "A flat export: other column names, comma-separated labels, a body spanning lines"
    import pandas as pd
    kinds = ['crash', 'docs', 'speed']
    df = pd.DataFrame({'summary': [f'issue {i}: {kinds[i % 3]}' for i in range(n)],
                       'description': [f'line one\nline two of {i}' for i in range(n)],
                       'tags': [kinds[i % 3] + (', docs' if i % 7 == 0 and i % 3 != 1 else '') for i in range(n)], **extra})
    df.to_csv(tmp_path/name, index=False)
    return tmp_path/name


def test_flat_csv_with_column_mapping_relative_path(tmp_path):
    flat_csv(tmp_path)
    r = run('data', '--data', 'flat.csv', '--columns', 'title=summary,body=description,labels=tags', cwd=tmp_path,
            env={'TAGPARROT_CACHE': str(tmp_path/'cache')})
    assert r.returncode == 0, r.stderr
    rep = json.loads(r.stdout.strip().splitlines()[-1])
    assert rep['rows'] == 40 and rep['labeled'] == 40 and set(rep['label_counts']) == {'crash', 'docs', 'speed'}
    assert rep['task'] == 'multi' and rep['split'] == 'stratified'
    assert list((tmp_path/'cache'/'splits').glob('*.pkl')), 'the split cache goes to $TAGPARROT_CACHE'


def test_published_split_single_label(tmp_path):
    split = ['train'] * 30 + ['test'] * 10
    p = flat_csv(tmp_path, part=split)
    import pandas as pd
    df = pd.read_csv(p); df['tags'] = df.summary.str.split().str[-1]; df.to_csv(p, index=False)
    r = run('data', '--data', str(p), '--columns', 'title=summary,body=description,labels=tags,split=part', '--task', 'single')
    assert r.returncode == 0, r.stderr
    rep = json.loads(r.stdout.strip().splitlines()[-1])
    assert rep['split'] == 'published' and rep['task'] == 'single'
    assert rep['split_sizes']['test'] == 10 and rep['split_sizes']['train'] + rep['split_sizes']['valid'] == 30


def test_single_task_refuses_two_labels(tmp_path):
    p = flat_csv(tmp_path)  # row 0 has 'crash, docs'; its record starts on line 2
    assert_one_line_error(run('data', '--data', str(p), '--columns', 'title=summary,body=description,labels=tags',
                              '--task', 'single'), f'{p}:2:', "task 'single' needs one label per issue")


def test_bad_csv_field_names_line_and_column(tmp_path):
    p = flat_csv(tmp_path, part=['train'] * 39 + ['later'])  # the 40th record starts on line 2 + 39 * 2
    assert_one_line_error(run('data', '--data', str(p), '--columns', 'title=summary,labels=tags,split=part'),
                          f"{p}:80:4: field 'part' must be one of")


def test_label_map_not_json_and_no_prefix_options(tmp_path):
    m = tmp_path/'map.json'
    m.write_text('{"bug": "bug",')
    assert_one_line_error(run('data', '--labels', str(m)), 'map.json:1:15: the label map is not valid JSON')
    r = run('data', '--dat', 'x.jsonl')
    assert r.returncode == 2 and 'unrecognized arguments: --dat' in r.stderr
