"The HumanEval harness end to end, and the sandbox against the attacks a completion could make"
import json, os, socket, subprocess, sys, tempfile, threading, time
from pathlib import Path

import pytest

from tagparrot.codeeval import (evaluate_code_cli, execute_samples, load_humaneval, namespace_isolation,
                                pass_at_k_table, run_program)
from tagparrot.core import TagparrotError, project_path

PROBLEMS = load_humaneval()
NS = pytest.mark.skipif(not namespace_isolation(), reason='needs root, unshare and setpriv')
GUARDS = [True, pytest.param(False, marks=NS, id='os-layers-only')]


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


@pytest.mark.parametrize('guard', GUARDS)
def test_infinite_loop_times_out(guard):
    t = time.monotonic()
    r = run_program('while True: pass', timeout=1.0, guard=guard)
    assert r['status'] == 'timeout' and time.monotonic() - t < 6


def nobody_processes():
    return subprocess.run(['ps', '-u', '65534', '--no-headers'], capture_output=True, text=True).stdout.count('\n')


@pytest.mark.parametrize('guard', GUARDS)
def test_fork_bomb_is_contained(guard):
    bomb = 'import os\nwhile True:\n    try: os.fork()\n    except OSError: pass\n'
    r = run_program(bomb, timeout=2.0, guard=guard)
    assert r['status'] in ('failed', 'timeout')
    for _ in range(50):  # the PID namespace is torn down with its first process
        if nobody_processes() == 0: break
        time.sleep(0.1)
    assert nobody_processes() == 0


@pytest.mark.parametrize('guard', GUARDS)
def test_file_deletion_is_contained(guard, tmp_path):
    victim = tmp_path/'keep'/'data.txt'; victim.parent.mkdir(); victim.write_text('precious')
    r = run_program(f'import os, shutil\nos.remove({str(victim)!r})\nshutil.rmtree({str(victim.parent)!r})', guard=guard)
    assert r['status'] == 'failed' and victim.read_text() == 'precious'


@NS
def test_project_files_are_hidden():
    r = run_program(f'import os\nprint(os.listdir({str(project_path())!r}))\n'
                    f'open({str(project_path("settings.ini"))!r}).read()', guard=False)
    assert r['status'] == 'failed' and '[]' in r['output'] and 'settings.ini' in r['output']


@pytest.mark.parametrize('guard', GUARDS)
def test_network_is_unreachable(guard):
    server = socket.create_server(('127.0.0.1', 0)); port = server.getsockname()[1]
    server.settimeout(3); seen = []
    def accept():
        try: seen.append(server.accept())
        except OSError: pass
    threading.Thread(target=accept, daemon=True).start()
    r = run_program(f'import socket\nsocket.create_connection(("127.0.0.1", {port}), timeout=2).sendall(b"x")',
                    guard=guard, timeout=3.0)
    time.sleep(0.2); server.close()
    assert r['status'] == 'failed' and not seen


@pytest.mark.parametrize('program', ['import sys; sys.exit(0)', 'import os; os._exit(0)',
                                     'x = bytearray(8 << 30)', 'while True: print("x" * 100000)'])
def test_early_exits_and_resource_abuse_fail(program):
    assert run_program(program, timeout=2.0)['status'] in ('failed', 'timeout')


def test_plain_process_fallback_still_guards():
    "Where namespaces are not available: limits and the guard alone"
    assert run_program('assert sum([1, 2]) == 3', isolation='process')['status'] == 'passed'
    assert run_program('import socket; socket.socket()', isolation='process')['status'] == 'failed'
    assert run_program('import os; os.fork()', isolation='process')['status'] == 'failed'
