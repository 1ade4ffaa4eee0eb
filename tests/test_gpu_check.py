"The prepared GPU check (benchmarks/gpu_check.sh): its CPU dry run end to end, its time bounds, its refusal without CUDA"
import json, os, subprocess, sys, time

import pytest

from tagparrot.core import project_path

CHECK = project_path('benchmarks', 'gpu_check.sh')
ENV = {**os.environ, 'OMP_NUM_THREADS': '1', 'PYTHON': sys.executable}


def check(*args, timeout=600):
    return subprocess.run(['bash', str(CHECK), *args], env=ENV, capture_output=True, text=True, timeout=timeout)


def results(out) -> dict:
    return {p.stem.removeprefix('gpu_'): json.loads(p.read_text()) for p in out.glob('gpu_*.json')}


def test_without_cuda_it_stops_at_once_with_one_line():
    import torch
    if torch.cuda.is_available(): pytest.skip('a CUDA device is present')
    r = check()
    assert r.returncode == 2
    assert r.stderr.strip().count('\n') == 0 and r.stderr.startswith('gpu_check: no CUDA device'), r.stderr


def test_a_stage_past_its_time_is_killed_and_recorded(tmp_path):
    t0 = time.perf_counter()
    r = check('--cpu-smoke', '--only', 'train', '--budget', '12', '--out', str(tmp_path/'out'), '--work', str(tmp_path/'work'))
    assert r.returncode == 1 and time.perf_counter() - t0 < 60, r.stdout + r.stderr
    rec = results(tmp_path/'out')
    assert list(rec) == ['train'] and rec['train']['status'].startswith('timed out after 1') and rec['train']['dry_run'] is True


@pytest.mark.slow  # about 3 minutes on 2 shared cores: every stage starts several processes and loads two encoders
def test_cpu_smoke_runs_every_stage(tmp_path):
    from tagparrot.large_encoder import MPNET, installed_parts
    large = installed_parts(MPNET) is not None  # the tagger stage needs the optional large encoder's five wheels
    r = check('--cpu-smoke', '--out', str(tmp_path/'out'), '--work', str(tmp_path/'work'), *([] if large else ['--skip', 'tagger']))
    assert r.returncode == 0, (r.stdout + r.stderr)[-4000:]
    rec = results(tmp_path/'out')
    assert sorted(rec) == sorted(['data', 'train', 'profile', 'resume', 'zeroshot'] + ['tagger'] * large)
    for name, x in rec.items():
        assert x['status'] == 'ok' and x['dry_run'] is True and x['device'].startswith('cpu'), (name, x['status'])
    train = rec['train']
    assert train['rounds'] == 2 and len(train['per_round']) == 2
    for side in ('script', 'trainer'):
        s = train[side]['tokens_per_s']
        assert 0 < s['min'] <= s['median'] <= s['max']
    prof = rec['profile']
    assert prof['steps_profiled'] == 2 and prof['top_ops'] and prof['device_syncs_per_step'] is None
    res = rec['resume']
    assert res['within_tolerance'] and res['max_rel_diff_after_resume'] == 0.0  # fp32 on a CPU: bit-exact
    assert sorted(map(int, res['loss_full'])) == list(range(1, 9))
    assert rec['zeroshot']['equal'] and rec['zeroshot']['pairs'] > 0
    if not large: return
    tag = rec['tagger']
    for enc in ('minilm', 'mpnet'):
        assert 0 <= tag[enc]['test']['macro_f1'] <= 1 and tag[enc]['seconds'] > 0
    assert tag['mpnet']['checkpoint'].endswith('all-mpnet-base-v2')
