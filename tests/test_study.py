"The study runner end to end through papermill: resume after kill -9, failures recorded, nothing lost."
import json, os, signal, subprocess, sys, time
from pathlib import Path

import pandas as pd
import pytest

ROOT = Path(__file__).resolve().parents[1]
CLI = str(Path(sys.executable).with_name('tagparrot'))


def study(out, *args, **kw):
    return subprocess.run([CLI, 'study', '--out', str(out), *args], capture_output=True, text=True, cwd=ROOT, timeout=600, **kw)


@pytest.mark.slow
def test_kill_9_then_resume_loses_nothing(tmp_path):
    sizes = ['8', '16', '32', '64', '128', '256', 'full']
    p = subprocess.Popen([CLI, 'study', '--preset', 'quick', '--out', str(tmp_path), '--sizes', *sizes],
                         cwd=ROOT, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True)
    res = tmp_path/'results.csv'
    deadline = time.time() + 300
    while time.time() < deadline and p.poll() is None:
        if res.exists() and len(pd.read_csv(res)) >= 2: break
        time.sleep(0.05)
    os.killpg(p.pid, signal.SIGKILL)  # the runner, papermill and the kernel, mid-run
    p.wait()
    before = pd.read_csv(res)  # parses: no half-written row
    assert len(before) >= 2
    r = study(tmp_path, '--preset', 'quick', '--sizes', *sizes)
    assert r.returncode == 0, r.stderr[-2000:]
    after = pd.read_csv(res)
    key = ['target_size', 'rule', 'micro_f1']
    assert set(map(tuple, before[key].astype(str).values)) <= set(map(tuple, after[key].astype(str).values))
    assert len(after.drop_duplicates(['method', 'target_size', 'rule', 'seed'])) == 14  # seven slices x two rules
    again = study(tmp_path, '--preset', 'quick', '--sizes', *sizes)
    assert 'nothing to run' in again.stdout and json.loads(again.stdout.splitlines()[-1])['executed'] == 0


def test_bad_data_is_refused_before_any_kernel_starts(tmp_path):
    bad = tmp_path/'unlabeled.jsonl'
    bad.write_text(''.join(json.dumps({'title': f't{i}', 'body': None, 'labels': []}) + '\n' for i in range(20)))
    r = study(tmp_path, '--preset', 'quick', '--data', str(bad))
    assert r.returncode == 1 and 'need at least 8' in r.stderr and len(r.stderr.strip().splitlines()) == 1
    assert not (tmp_path/'runs').exists()


def test_failed_cells_are_recorded_and_do_not_stop_the_others(tmp_path):
    r = study(tmp_path, '--preset', 'quick', '--seeds', '0', '1', '--jobs', '1', '--timeout', '1')
    assert r.returncode == 1
    fails = [json.loads(l) for l in (tmp_path/'runs'/'failures.jsonl').read_text().splitlines()]
    assert sorted(f['seed'] for f in fails) == [0, 1] and all(f['status'] == 'failed' and f['error'] for f in fails)


def test_readme_table_is_generated_from_the_csv(tmp_path):
    from tagparrot.data import load_issue_splits
    data = {s: load_issue_splits(seed=s).split_fingerprint() for s in (0, 1)}
    rows = [{'method': m, 'checkpoint': '-', 'rule': r, 'decision': '{}', 'train_size': n, 'target_size': t, 'slice_index': 0,
             'seed': s, 'split': 'test', 'micro_f1': f - d, 'macro_f1': (f - d) / 2, 'per_label': '{}', 'seconds': 1.0, 'notes': '',
             'git_commit': '', 'params': '{}', 'data': data[s]}
            for m, f in [('naive-bayes', 0.4), ('contrastive', 0.6)] for n, t in ((7, '8'), (836, 'full'))
            for s in (0, 1) for r, d in (('tuned', 0), ('reference', 0.1))]
    rows.append(rows[0] | {'data': 'other-data', 'micro_f1': 0.99, 'macro_f1': 0.99})  # another file's row: never in the table
    pd.DataFrame(rows).to_csv(tmp_path/'r.csv', index=False)
    readme = tmp_path/'README.md'
    readme.write_text('# x\n\n<!-- results:start -->\nold\n<!-- results:end -->\n\ntail\n')
    r = subprocess.run([sys.executable, str(ROOT/'scripts'/'results_table.py'), '--results', str(tmp_path/'r.csv'),
                        '--readme', str(readme)], capture_output=True, text=True)
    assert r.returncode == 0, r.stderr
    text = readme.read_text()
    assert 'old' not in text and text.endswith('tail\n')
    assert '| contrastive | 0.300 ± 0.000' in text and '0.200 ± 0.000' in text and '0.990' not in text
    assert 'tuned' in text and '8 (7)' in text


@pytest.mark.slow
def test_cells_without_a_kernel_write_the_notebooks_rows(tmp_path):
    "scripts/run_cells.py: the rows the notebook would write (same settings), resumable, a typo refused"
    cmd = [sys.executable, str(ROOT/'scripts'/'run_cells.py'), '--preset', 'quick', '--methods', 'naive-bayes',
           '--seeds', '0', '--sizes', '8', '32', '--results', str(tmp_path/'r.csv'), '--logs', str(tmp_path/'logs')]
    r = subprocess.run(cmd, capture_output=True, text=True, cwd=ROOT, timeout=600)
    assert r.returncode == 0, r.stderr[-2000:]
    rows = pd.read_csv(tmp_path/'r.csv', dtype={'target_size': str})
    assert sorted(rows.target_size) == ['32', '32', '8', '8'] and set(rows.rule) == {'reference', 'tuned'}
    assert subprocess.run(cmd, capture_output=True, text=True, cwd=ROOT, timeout=600).returncode == 0
    assert len(pd.read_csv(tmp_path/'r.csv')) == 4  # a second run finds every row done
    bad = subprocess.run(cmd[:4] + ['--methods', 'naive-bayes-agu'], capture_output=True, text=True, cwd=ROOT, timeout=120)
    assert bad.returncode == 2 and 'naive-bayes-agu' in bad.stderr
