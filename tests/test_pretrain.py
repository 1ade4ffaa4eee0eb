"Integration tests of the exported training script: standalone run, kill-and-resume, 2-process DDP on CPU"
import json, os, re, shutil, socket, subprocess, sys
from pathlib import Path

import pytest

from tagparrot.core import project_path
from tagparrot.codeparrot.pretrain import export_training_script, read_metrics, stdlib_texts, train_tiny_tokenizer, write_code_corpus

SCRIPT = project_path('scripts', 'codeparrot_training.py')
ENV = {**os.environ, 'OMP_NUM_THREADS': '1', 'TOKENIZERS_PARALLELISM': 'false', 'HF_HUB_OFFLINE': '1',
       'HF_DATASETS_OFFLINE': '1', 'TRANSFORMERS_OFFLINE': '1', 'PYTHONWARNINGS': 'ignore'}
SMALL = ['--preset', 'tiny', '--seq_length', '64', '--train_batch_size', '4', '--max_eval_steps', '2',
         '--eval_every', '100', '--log_every', '1', '--threads', '1']


@pytest.fixture(scope='module')
def data(tmp_path_factory):
    "A small real corpus (standard-library modules) and a small BPE fitted on it"
    root = tmp_path_factory.mktemp('data')
    texts = stdlib_texts(40)
    train_tiny_tokenizer(texts, 512, root/'tok')
    return ['--dataset_dir', str(write_code_corpus(texts, root/'corpus')), '--tokenizer', str(root/'tok')]


@pytest.fixture(scope='module')
def standalone(tmp_path_factory):
    "The script copied alone into an empty folder, as it would be on a cluster"
    d = tmp_path_factory.mktemp('standalone')
    return shutil.copy(SCRIPT, d/'codeparrot_training.py')


def run(script, *args, env=None, cwd=None):
    return subprocess.run([sys.executable, str(script), *args], env=env or ENV, cwd=cwd, capture_output=True,
                          text=True, timeout=300)


def test_script_matches_notebook(tmp_path):
    "The committed script is what the notebook exports (the nbdev contract, for the file nbdev cannot write)"
    fresh = export_training_script(dest=tmp_path/'codeparrot_training.py')
    assert fresh.read_text() == SCRIPT.read_text(), 'run export_training_script() after editing nbs/13_pretraining'


@pytest.mark.slow
def test_kill_and_resume_matches_uninterrupted(tmp_path, data, standalone):
    common = [*SMALL, *data, '--max_steps', '8', '--save_every', '3']
    def start(out, env=ENV):  # the uninterrupted and the doomed run go side by side
        log = open(tmp_path/f'{out}.log', 'w')
        return subprocess.Popen([sys.executable, str(standalone), *common, '--output_dir', str(tmp_path/out)], env=env,
                                cwd=tmp_path, stdout=log, stderr=subprocess.STDOUT)
    full, killed = start('full'), start('killed', {**ENV, 'CODEPARROT_KILL_AT_STEP': '5'})
    assert full.wait(timeout=300) == 0, (tmp_path/'full.log').read_text()[-3000:]
    assert killed.wait(timeout=300) == -9, (tmp_path/'killed.log').read_text()[-3000:]
    assert (tmp_path/'killed/checkpoints/step_0000003/trainer_state.json').exists()
    assert not (tmp_path/'killed/final').exists()
    resumed = run(standalone, *common, '--output_dir', str(tmp_path/'killed'), '--resume', cwd=tmp_path)
    assert resumed.returncode == 0, resumed.stderr[-3000:]
    assert 'resumed from' in resumed.stdout + resumed.stderr

    def logged(d): return [(r['step'], 'loss/train' in r) for r in read_metrics(d/'metrics.jsonl')]
    assert sorted(logged(tmp_path/'killed')) == sorted(logged(tmp_path/'full'))   # each step once, replay included
    def losses(d): return {r['step']: r['loss/train'] for r in read_metrics(d/'metrics.jsonl') if 'loss/train' in r}
    a, b = losses(tmp_path/'full'), losses(tmp_path/'killed')
    assert sorted(a) == sorted(b) == list(range(1, 9))
    for step in range(1, 9): assert b[step] == pytest.approx(a[step], abs=1e-5), (step, a[step], b[step])
    sa, sb = (json.loads((d/'summary.json').read_text()) for d in (tmp_path/'full', tmp_path/'killed'))
    assert sb['loss/eval'] == pytest.approx(sa['loss/eval'], abs=1e-5)


def free_port():
    with socket.socket() as s:
        s.bind(('127.0.0.1', 0)); return s.getsockname()[1]


@pytest.mark.slow
def test_accelerate_launch_two_cpu_processes(tmp_path, standalone):
    """The contract's command line under `accelerate launch` with 2 CPU processes (gloo DDP), built-in data.

    accelerate 1.15 starts ONE process for `launch --cpu --num_processes 2` (its CPU launcher needs mpirun for
    more); torchrun-style launching with `--multi_gpu` plus ACCELERATE_USE_CPU=1 gives two gloo processes."""
    accelerate = Path(sys.executable).parent/'accelerate'
    cmd = [str(accelerate), 'launch', '--multi_gpu', '--num_processes', '2', '--num_machines', '1', '--mixed_precision',
           'no', '--dynamo_backend', 'no', '--main_process_port', str(free_port()), str(standalone),
           '--preset', 'tiny', '--max_steps', '3', '--output_dir', str(tmp_path/'ddp'), '--threads', '1',
           '--seq_length', '64', '--train_batch_size', '4', '--max_eval_steps', '2', '--log_every', '1']
    r = subprocess.run(cmd, env={**ENV, 'ACCELERATE_USE_CPU': '1'}, cwd=tmp_path, capture_output=True, text=True, timeout=300)
    assert r.returncode == 0, (r.stdout + r.stderr)[-4000:]
    summary = json.loads((tmp_path/'ddp/summary.json').read_text())
    assert summary['processes'] == 2 and summary['steps'] == 3
    assert summary['tokens'] == 3 * 2 * 4 * 64 * 2  # steps x accumulation x batch x length x processes
    assert (tmp_path/'ddp/final/README.md').exists() and (tmp_path/'ddp/logs/debug_1.log').exists()


def test_constant_length_benchmark_runs_and_tiktoken_matches():
    "The loader benchmark runs end to end on a tiny budget; its tiktoken path gives the tokenizer's own sequences"
    out = subprocess.run([sys.executable, str(project_path('benchmarks', 'bench_constant_length.py')), '--seconds', '0.3',
                          '--rounds', '1', '--workers', '1', '--vocab', '1024'], capture_output=True, text=True, timeout=600)
    assert out.returncode == 0, out.stderr[-2000:]
    lines = out.stdout.strip().splitlines()
    assert any(l.startswith('ours, tiktoken') for l in lines)
    assert re.fullmatch(r'ratio=[0-9.]+ equal=true', lines[-1]), lines[-1]
