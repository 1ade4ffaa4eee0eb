"""The study grid on a Dask cluster started here on 127.0.0.1: a worker killed mid-cell loses only its cell, the rerun
completes the grid, and the rows equal the local pool's, none lost or doubled."""
import json, os, signal, socket, subprocess, sys, threading, time
from pathlib import Path
from unittest.mock import patch

import pandas as pd
import psutil
import pytest

BIN = Path(sys.executable).parent
KEY = ['method', 'checkpoint', 'rule', 'target_size', 'seed', 'split', 'data']
SCORES = ['micro_f1', 'macro_f1', 'per_label', 'train_size']


def study(out, **kw):
    "The quick preset, in this process (one import of the package for every run), no label map named, as `tagparrot study` runs it"
    from tagparrot.study import run_study
    return run_study('quick', out, labels=None, **kw)


def in_thread(fn):
    "Start `fn` in a thread; join() returns its result"
    box, t = {}, threading.Thread(target=lambda: box.update(r=fn()))
    t.start()
    return lambda: (t.join(400), box['r'])[1]


def rows(out):
    return pd.read_csv(out/'results.csv', dtype=str, keep_default_na=False).sort_values(KEY, ignore_index=True)


def free_port():
    with socket.socket() as s:
        s.bind(('127.0.0.1', 0))
        return s.getsockname()[1]


@pytest.fixture
def cluster(tmp_path):
    "A scheduler and two single-thread workers (two CPUs) on 127.0.0.1; a task whose worker dies is not retried"
    from distributed import Client
    addr, tmp = f"tcp://127.0.0.1:{free_port()}", tmp_path/'cluster'
    tmp.mkdir()
    env = {**os.environ, 'DASK_DISTRIBUTED__SCHEDULER__ALLOWED_FAILURES': '0', 'TMPDIR': str(tmp)}
    log = open(tmp/'cluster.log', 'w')
    start = lambda *cmd: subprocess.Popen([str(BIN/'dask'), *cmd], env=env, cwd=tmp, stdout=log, stderr=subprocess.STDOUT,
                                          start_new_session=True)
    procs = [start('scheduler', '--host', '127.0.0.1', '--port', addr.rsplit(':', 1)[1], '--no-dashboard')]
    try:
        procs.append(start('worker', addr, '--nworkers', '2', '--nthreads', '1', '--host', '127.0.0.1', '--no-dashboard',
                           '--local-directory', str(tmp)))
        with Client(addr, timeout='120s') as c: c.wait_for_workers(2, timeout=120)
        yield addr
    finally:
        for p in reversed(procs): _stop(p)
        log.close()


def _stop(p):
    "End a process started here and everything it started (its own session), gently first"
    for sig, wait in ((signal.SIGTERM, 20), (signal.SIGKILL, 10)):
        try: os.killpg(p.pid, sig)
        except ProcessLookupError: return
        try: return p.wait(wait)
        except subprocess.TimeoutExpired: pass


def kernel_of(seed, timeout=240):
    "The papermill process running `seed`'s cell, once its kernel has started"
    deadline = time.time() + timeout
    while time.time() < deadline:
        for p in psutil.process_iter(['cmdline']):
            cmd = ' '.join(p.info['cmdline'] or [])
            try:
                if 'papermill' in cmd and f'seed-{seed}_' in cmd and 'tagparrot-cell-' in cmd and p.children(): return p
            except psutil.Error: pass   # it ended while looked at
        time.sleep(0.2)
    raise AssertionError(f"no papermill run of seed {seed} started")


@pytest.mark.slow
def test_cluster_rows_match_local_pool_and_a_killed_worker_loses_only_its_cell(tmp_path, cluster):
    local = in_thread(lambda: study(tmp_path/'local'))   # the local pool's rows, computed beside the cluster runs
    out = tmp_path/'dask'
    first = in_thread(lambda: study(out, executor='dask', address=cluster))
    papermill = kernel_of(seed=0)
    worker = papermill.parent()   # the Dask worker process running the cell: it dies with its children, mid-cell
    for p in [*worker.children(recursive=True), worker]: p.kill()
    first = first()
    assert first['failed'] == 1 and first['rows'] == 0   # nothing of the killed cell landed
    fails = [json.loads(l) for l in (out/'runs'/'failures.jsonl').read_text().splitlines()]
    assert [(f['seed'], f['status']) for f in fails] == [(0, 'failed')] and 'KilledWorker' in fails[0]['error']

    again = study(out, executor='dask', address=cluster)
    assert (again['executed'], again['failed'], again['rows']) == (1, 0, 4)   # the rerun picks the lost cell up
    assert local()['failed'] == 0
    got, want = rows(out), rows(tmp_path/'local')
    assert not got.duplicated(KEY).any()
    pd.testing.assert_frame_equal(got[KEY + SCORES], want[KEY + SCORES])
    same_values(got, want)
    for f in ('ck-default_seed-0_sizes-8-32.ipynb', 'ck-default_seed-0_sizes-8-32.log'): assert (out/'runs'/'naive-bayes'/f).exists()
    assert study(out, executor='dask', address=cluster)['executed'] == 0


def same_values(got, want):
    "The Dask rows are the local pool's, value for value (all but the seconds a slice took), on the default data"
    from tagparrot.data import load_issue_splits
    from tagparrot.evaluation import RESULT_COLUMNS
    cols = [c for c in RESULT_COLUMNS if c != 'seconds']
    pd.testing.assert_frame_equal(got[cols].sort_values(cols, ignore_index=True), want[cols].sort_values(cols, ignore_index=True))
    splits = load_issue_splits(seed=0)   # the shared file through the hf-datasets map, as the local pool reads it
    assert set(got.data) == {splits.split_fingerprint()} and set(got.dataset) == {splits.fingerprint()}
    assert len(json.loads(got.per_label[0])) == len(splits.labels)


def test_dask_executor_without_distributed_says_what_to_install(tmp_path, capsys):
    from tagparrot.cli import main
    with patch.dict(sys.modules, {'distributed': None}):   # as if the cluster extra were not installed
        assert main(['study', '--preset', 'quick', '--out', str(tmp_path), '--executor', 'dask']) == 1
    err = capsys.readouterr().err
    assert len(err.strip().splitlines()) == 1 and "pip install 'tagparrot[cluster]'" in err
