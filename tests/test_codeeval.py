"The HumanEval harness end to end (the sandbox's attack suite is tests/test_sandbox_attacks.py)"
import json, subprocess, sys, time
from pathlib import Path

import pytest

from tagparrot.codeparrot import codeeval
from tagparrot.codeparrot.codeeval import evaluate_code_cli, execute_samples, load_humaneval, pass_at_k_table, run_sample
from tagparrot.core import TagparrotError

PROBLEMS = load_humaneval()


def test_cli_canonical_all_problems_pass():
    "The contract: `tagparrot evaluate-code --canonical` ends with pass@1=1.0 over all 164 problems"
    exe = Path(sys.executable).parent/'tagparrot'
    r = subprocess.run([str(exe), 'evaluate-code', '--canonical'], capture_output=True, text=True, timeout=600)
    assert r.returncode == 0, r.stderr[-2000:]
    assert r.stdout.strip().splitlines()[-1] == 'pass@1=1.0000 problems=164'


def test_known_wrong_completions_score_zero():
    some = PROBLEMS[::4]
    res = execute_samples(some, [{'task_id': p['task_id'], 'completion': '    raise NotImplementedError\n'}
                                 for p in some])
    assert pass_at_k_table(res) == {'pass@1': 0.0}


def test_samples_file(tmp_path, capsys):
    f = tmp_path/'samples.jsonl'
    rows = [{'task_id': p['task_id'], 'completion': c} for p in PROBLEMS[:4]
            for c in (p['canonical_solution'], '    return 0\n', '    return 0\n', '    return 0\n')]
    f.write_text(''.join(json.dumps(r) + '\n' for r in rows))
    assert evaluate_code_cli(['--samples', str(f), '--k', '1,2,4', '--out', str(tmp_path/'res.jsonl')]) == 0
    lines = capsys.readouterr().out.strip().splitlines()
    assert lines[-3:] == ['pass@2=0.5000', 'pass@4=1.0000', 'pass@1=0.2500 problems=4']
    assert len((tmp_path/'res.jsonl').read_text().splitlines()) == 16
    f.write_text(json.dumps(rows[0]) + '\n{"task_id": "HumanEval/0"}\n')
    with pytest.raises(TagparrotError, match=r"samples.jsonl:2: field 'completion'"): evaluate_code_cli(['--samples', str(f)])


def test_infinite_loop_times_out():
    t = time.monotonic()
    r = run_sample(PROBLEMS[0], '    while True: pass\n', timeout=1.0)
    assert r['status'] == 'timeout' and time.monotonic() - t < 6


def test_canonical_with_fewer_samples_than_k(capsys):
    "A k beyond the samples per problem is skipped with a note; pass@1 is always there"
    assert evaluate_code_cli(['--canonical', '--problems', '2', '--k', '10']) == 0
    out, err = capsys.readouterr()
    assert out.strip().splitlines() == ['pass@1=1.0000 problems=2'] and 'skipped pass@k for k=[10]' in err


def test_refuses_without_isolation_unless_allowed(monkeypatch, capsys):
    monkeypatch.setattr(codeeval, 'isolation_problem', lambda: 'bubblewrap is not installed')
    with pytest.raises(TagparrotError, match='refusing to run generated code without isolation: bubblewrap is not'):
        evaluate_code_cli(['--canonical', '--problems', '1'])
    assert evaluate_code_cli(['--canonical', '--problems', '1', '--allow-unsandboxed']) == 0
    assert capsys.readouterr().out.strip().splitlines()[-1] == 'pass@1=1.0000 problems=1'
