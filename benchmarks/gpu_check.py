"""The GPU measurements of the study in one bounded run: training speed, resume, zero-shot scorer, large encoder.

    bash benchmarks/gpu_check.sh [--only train,profile,...] [--skip tagger] [--budget 560] [--out results]
    bash benchmarks/gpu_check.sh --cpu-smoke          # the same code paths, tiny sizes, on the CPU (no GPU needed)

Stages, in order, each in its own process with its own time limit (and never past the overall `--budget`), each
writing `OUT/gpu_<stage>.json` (device name, settings, figures, status) as soon as it ends:
  data     a Python corpus (the standard library, many small shards) and a BPE fitted on it, shared by the next two
  train    scripts/codeparrot_training.py against the HF Trainer (benchmarks/bench_pretrain_vs_trainer.py): GPT-2
           small, same data, batch and bf16, 3 alternating rounds of 300 steps; median and spread of tokens/s, MFU
  profile  torch.profiler over a few steady steps of the script itself: top ops by device time, host syncs per step
  resume   the script killed after N steps and resumed, against an uninterrupted run: per-step training loss
  zeroshot the fast NLI scorer against the transformers zero-shot pipeline on the device, same model and inputs
  tagger   the large encoder (all-mpnet-base-v2) against the packaged MiniLM as a k-NN tagger on a single-label task
           (bug / enhancement / dataset request of the default issues): seconds and test macro F1
A stage that runs out of time writes its JSON with the status `timed out`; the other stages still run.
Without a CUDA device the check stops at once with one line, unless `--cpu-smoke`, whose JSON goes to a temporary
folder (or `--out`) and never over the GPU results.
"""
import argparse, json, os, platform, random, signal, subprocess, sys, tempfile, time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
SCRIPT = ROOT/'scripts'/'codeparrot_training.py'
STAGES = ('data', 'train', 'profile', 'resume', 'zeroshot', 'tagger')
# Seconds per stage, guessed for an H200 with room to spare (compilation, model loading, CUDA start-up included);
# `--budget` bounds them together, so a slow stage shortens the ones after it rather than the call
LIMITS = {'data': 90, 'train': 300, 'profile': 100, 'resume': 120, 'zeroshot': 60, 'tagger': 120}
TOPICS = ('bug', 'enhancement', 'dataset request')
BF16_TOL = 2 ** -7  # bf16's machine epsilon: relative loss differences below it are rounding, not a broken resume

# What each stage runs at: on the GPU, GPT-2 small at batch 16 (at 32, three rounds a side would leave no time for
# the other stages); in the CPU smoke run, the smallest sizes that still take every code path (data loaders,
# checkpoints, the Trainer, the profiler, both encoders)
GPU = dict(vocab=32768, max_files=None, bench=['--preset', 'small', '--steps', '300', '--warmup', '50', '--rounds', '3',
           '--threads', '0', '--train_batch_size', '16', '--mixed_precision', 'bf16', '--compile', '--num_workers', '8',
           '--shuffle_buffer', '100'],
           run=['--preset', 'small', '--train_batch_size', '16', '--mixed_precision', 'bf16', '--num_workers', '4',
                '--shuffle_buffer', '100'],
           profile=dict(wait=4, warmup=2, active=3, extra=['--compile']),
           resume=dict(max_steps=30, save_every=10, kill_at=15, extra=['--train_batch_size', '8']),
           zeroshot=dict(texts=64, chars=400, batch_size=64), tagger=dict(train=100, test=60, max_length=256))
SMOKE = dict(vocab=512, max_files=40, bench=['--preset', 'tiny', '--steps', '6', '--warmup', '2', '--rounds', '2',
             '--threads', '1', '--seq_length', '64', '--train_batch_size', '4', '--mixed_precision', 'no'],
             run=['--preset', 'tiny', '--seq_length', '64', '--train_batch_size', '4', '--threads', '1'],
             profile=dict(wait=2, warmup=1, active=2, extra=[]),
             resume=dict(max_steps=8, save_every=3, kill_at=5, extra=[]),
             zeroshot=dict(texts=2, chars=120, batch_size=8), tagger=dict(train=8, test=4, max_length=32))


def device_info() -> dict:
    import torch
    cuda = torch.cuda.is_available()
    return {'device': torch.cuda.get_device_name() if cuda else f'cpu ({platform.processor() or platform.machine()})',
            'cuda': cuda, 'torch': torch.__version__, 'cuda_version': torch.version.cuda}


def git_commit() -> str | None:
    "HEAD's commit, or None where the checkout came without its history (or git is missing)"
    try: return subprocess.run(['git', 'rev-parse', 'HEAD'], cwd=ROOT, capture_output=True, text=True).stdout.strip() or None
    except OSError: return None


def write_result(out: Path, stage: str, record: dict):
    "OUT/gpu_<stage>.json, written whole or not at all"
    out.mkdir(parents=True, exist_ok=True)
    tmp = out/f'.gpu_{stage}.json.tmp'
    tmp.write_text(json.dumps({'stage': stage, **record}, indent=1, default=str))
    os.replace(tmp, out/f'gpu_{stage}.json')


# ---- data ------------------------------------------------------------------------------------------------------
def prepare_corpus(work: Path, vocab: int, max_files: int | None = None) -> list[str]:
    "The standard library as train/valid shards of 8 modules (so every DataLoader worker gets some) and its BPE"
    import gzip
    sys.path.insert(0, str(SCRIPT.parent))
    import codeparrot_training as cp
    train, valid = cp.stdlib_split()
    if max_files: train, valid = train[:max_files], valid[:max(2, max_files // 10)]
    if not (work/'tok'/'tokenizer.json').exists(): cp.train_tiny_tokenizer(train, vocab, work/'tok')
    for split, texts in (('train', train), ('valid', valid)):
        (work/'corpus'/split).mkdir(parents=True, exist_ok=True)
        for k in range(0, len(texts), 8):
            with gzip.open(work/'corpus'/split/f'{k//8:04d}.jsonl.gz', 'wt') as f:
                f.writelines(json.dumps({'content': t}) + '\n' for t in texts[k:k+8])
    return ['--dataset_dir', str(work/'corpus'), '--tokenizer', str(work/'tok')]


def data_args(cfg, work: Path) -> list[str]:
    "The script's data arguments; the corpus is built first when the data stage was skipped or ran in another call"
    if not (work/'corpus'/'valid').is_dir(): return prepare_corpus(work, cfg['vocab'], cfg['max_files'])
    return ['--dataset_dir', str(work/'corpus'), '--tokenizer', str(work/'tok')]


def stage_data(cfg, work, limit):
    t0 = time.perf_counter()
    prepare_corpus(work, cfg['vocab'], cfg['max_files'])
    return {'vocab': cfg['vocab'], 'seconds': time.perf_counter() - t0, 'folder': str(work)}


# ---- train: the script against the Trainer --------------------------------------------------------------------
def stage_train(cfg, work, limit):
    out = work/'bench.json'
    cmd = [sys.executable, str(ROOT/'benchmarks'/'bench_pretrain_vs_trainer.py'), *cfg['bench'], *data_args(cfg, work),
           '--json', str(out)]
    subprocess.run(cmd, check=True, timeout=limit)
    return json.loads(out.read_text())


# ---- profile: a few steady steps of the script ------------------------------------------------------------------
# The runtime calls that block the host until the device has caught up. `aten::item` is counted apart: on a CPU
# tensor (mostly the non-fused AdamW's step counters, one per parameter) it reads memory and waits for nothing.
SYNC_CALLS = ('cudaStreamSynchronize', 'cudaDeviceSynchronize', 'cudaEventSynchronize', 'cudaMemcpy')


def profile_summary(prof, active: int, top: int = 12) -> dict:
    "Top ops by device time (CPU time on a CPU), the host's waits for the device and the scalar reads, per profiled step"
    events = prof.key_averages()
    dev = lambda e: getattr(e, 'self_device_time_total', getattr(e, 'self_cuda_time_total', 0))
    on_device = any(dev(e) for e in events)
    rows = sorted(events, key=dev if on_device else (lambda e: e.self_cpu_time_total), reverse=True)[:top]
    per_step = lambda names: {e.key: e.count / active for e in events if e.key in names}
    return {'steps_profiled': active, 'sorted_by': 'self device time' if on_device else 'self CPU time',
            'top_ops': [{'op': e.key, 'calls': e.count, 'self_device_ms': dev(e) / 1e3,
                         'self_cpu_ms': e.self_cpu_time_total / 1e3} for e in rows],
            'device_syncs_per_step': per_step(SYNC_CALLS) if on_device else None,
            'scalar_reads_per_step': per_step(('aten::item',)).get('aten::item', 0.0)}


def stage_profile(cfg, work, limit):
    "The exported script's own `main`, profiled from outside: the optimizer's step hook advances the profiler"
    import torch
    from torch.optim.optimizer import register_optimizer_step_post_hook
    from torch.profiler import ProfilerActivity, profile, schedule
    sys.path.insert(0, str(SCRIPT.parent))
    import codeparrot_training as cp
    p = cfg['profile']
    steps = p['wait'] + p['warmup'] + p['active'] + 1  # the last step logs (one `.item()`), outside the window
    acts = [ProfilerActivity.CPU] + ([ProfilerActivity.CUDA] if torch.cuda.is_available() else [])
    with profile(activities=acts, schedule=schedule(wait=p['wait'], warmup=p['warmup'], active=p['active'], repeat=1)) as prof:
        hook = register_optimizer_step_post_hook(lambda *a, **k: prof.step())
        summary = cp.main([*cfg['run'], *p['extra'], *data_args(cfg, work), '--output_dir', str(work/'profile'),
                           '--max_steps', str(steps), '--gradient_accumulation_steps', '1', '--log_every', str(10**9),
                           '--eval_every', str(10**9), '--save_every', str(10**9), '--max_eval_steps', '1'])
        hook.remove()
    trace = work/'profile_trace.json'
    prof.export_chrome_trace(str(trace))
    return {**profile_summary(prof, p['active']), 'run_steps': summary['steps'], 'script_args': cfg['run'] + p['extra'],
            'trace': str(trace)}


# ---- resume: killed and resumed against uninterrupted -----------------------------------------------------------
def stage_resume(cfg, work, limit):
    r = cfg['resume']
    common = [*cfg['run'], *r['extra'], *data_args(cfg, work), '--max_steps', str(r['max_steps']),
              '--save_every', str(r['save_every']), '--log_every', '1', '--eval_every', str(10**9),
              '--max_eval_steps', '2', '--gradient_accumulation_steps', '1']
    deadline = time.monotonic() + limit
    def start(name, env=None):
        log = open(work/f'resume_{name}.log', 'w')
        return subprocess.Popen([sys.executable, str(SCRIPT), *common, '--output_dir', str(work/f'resume_{name}')],
                                env={**os.environ, **(env or {})}, stdout=log, stderr=subprocess.STDOUT)
    for d in ('resume_full', 'resume_killed'): subprocess.run(['rm', '-rf', str(work/d)])
    full = start('full')
    killed = start('killed', {'CODEPARROT_KILL_AT_STEP': str(r['kill_at'])})
    codes = [full.wait(timeout=deadline - time.monotonic()), killed.wait(timeout=deadline - time.monotonic())]
    if codes != [0, -signal.SIGKILL]: raise RuntimeError(f'uninterrupted run exited {codes[0]}, killed run {codes[1]} (logs in {work})')
    with open(work/'resume_resumed.log', 'w') as log:
        subprocess.run([sys.executable, str(SCRIPT), *common, '--output_dir', str(work/'resume_killed'), '--resume'],
                       check=True, stdout=log, stderr=subprocess.STDOUT, timeout=deadline - time.monotonic())
    def losses(name):
        rows = [json.loads(l) for l in (work/name/'metrics.jsonl').read_text().splitlines()]
        return {row['step']: row['loss/train'] for row in rows if 'loss/train' in row}
    a, b = losses('resume_full'), losses('resume_killed')
    if sorted(a) != sorted(b): raise RuntimeError(f'logged steps differ: {sorted(a)} vs {sorted(b)}')
    rel = {s: abs(a[s] - b[s]) / abs(a[s]) for s in a}
    ckpt = (r['kill_at'] // r['save_every']) * r['save_every']
    before = max((v for s, v in rel.items() if s <= ckpt), default=0.0)  # two runs, same steps: the device's own noise
    after = max(v for s, v in rel.items() if s > ckpt)
    sa, sb = (json.loads((work/d/'summary.json').read_text()) for d in ('resume_full', 'resume_killed'))
    return {'max_steps': r['max_steps'], 'checkpoint_step': ckpt, 'killed_at': r['kill_at'],
            'script_args': cfg['run'] + r['extra'], 'loss_full': a, 'loss_resumed': b,
            'max_rel_diff_before_checkpoint': before, 'max_rel_diff_after_resume': after,
            'eval_loss_full': sa['loss/eval'], 'eval_loss_resumed': sb['loss/eval'], 'tolerance': BF16_TOL,
            'within_tolerance': after <= BF16_TOL and abs(sa['loss/eval'] - sb['loss/eval']) <= BF16_TOL * abs(sa['loss/eval'])}


# ---- zero-shot: the fast scorer against the pipeline on the device ----------------------------------------------
def stage_zeroshot(cfg, work, limit):
    import numpy as np, torch
    from transformers import pipeline
    from tagparrot.core import get_device
    from tagparrot.zeroshot import NLIScorer
    from tagparrot.zeroshot_bench import bench_nli_model, bench_texts
    z, device = cfg['zeroshot'], get_device()
    texts, labels = bench_texts(z['texts'], z['chars'])
    model, tok = bench_nli_model()
    pipe = pipeline('zero-shot-classification', model=model, tokenizer=tok, device=device)
    scorer = NLIScorer(model, tok, batch_size=z['batch_size'], device=device)
    pipe(texts[0][:50], labels[:1]); scorer(['warm-up'], labels[:1])  # CUDA context, kernels: one-off costs
    sync = torch.cuda.synchronize if device == 'cuda' else (lambda: None)
    t0 = time.perf_counter(); outs = [pipe(t, labels, multi_label=True) for t in texts]; sync(); t_pipe = time.perf_counter() - t0
    ref = np.array([[dict(zip(o['labels'], o['scores']))[l] for l in labels] for o in outs])
    scorer.cache.clear()
    t0 = time.perf_counter(); fast = scorer(texts, labels); sync(); t_fast = time.perf_counter() - t0
    diff = float(np.abs(fast - ref).max())
    return {'model': 'packaged encoder with a seeded 3-way NLI head (bench_nli_model)', 'texts': len(texts),
            'labels': len(labels), 'pairs': len(texts) * len(labels), 'chars': z['chars'], 'batch_size': z['batch_size'],
            'pipeline_s': t_pipe, 'scorer_s': t_fast, 'ratio': t_pipe / t_fast, 'max_abs_diff': diff, 'equal': diff < 1e-4,
            'tf32_matmul': torch.backends.cuda.matmul.allow_tf32}


# ---- tagger: the large encoder against MiniLM ---------------------------------------------------------------------
def single_label_task(n_train: int, n_test: int, seed: int = 0):
    "Issues of the default file carrying exactly one of TOPICS: `n_train` per label to train on, `n_test` per label held out"
    import pandas as pd
    from tagparrot.data import read_issues
    by_label = {t: [] for t in TOPICS}
    for r in read_issues():
        if len(got := set(r['labels']) & set(TOPICS)) == 1:
            by_label[got.pop()].append({'title': r['title'], 'body': r['body'] or '', 'labels': [l for l in r['labels'] if l in TOPICS]})
    train, test, rng = [], [], random.Random(seed)
    for rows in by_label.values():
        rng.shuffle(rows); train += rows[:n_train]; test += rows[n_train:n_train + n_test]
    return pd.DataFrame(train), pd.DataFrame(test)


def stage_tagger(cfg, work, limit):
    import numpy as np, torch
    from tagparrot.core import resolve_checkpoint
    from tagparrot.data import issue_text
    from tagparrot.tagger import task_scores, train_tagger
    t = cfg['tagger']
    train, test = single_label_task(t['train'], t['test'])
    lmap = {l: l for l in TOPICS}
    rows = {}
    if torch.cuda.is_available(): torch.zeros(1, device='cuda')  # CUDA's start-up is nobody's seconds
    for name in ('minilm', 'mpnet'):
        ck = resolve_checkpoint(name)  # fails here, with the install command, when the large encoder is missing
        t0 = time.perf_counter()
        tagger = train_tagger(train, lmap, 'embedding-knn', task='single', settings={
            'checkpoint': name, 'max_length': t['max_length'], 'cache_dir': str(work/f'cache_{name}_{time.time_ns()}')})
        fit_s = time.perf_counter() - t0
        tags = tagger.predict([issue_text(r) for r in test.to_dict('records')])
        seconds = time.perf_counter() - t0
        Y = np.array([[l in row for l in tagger.labels] for row in test['labels']], dtype=int)
        P = np.array([[l in row for l in tagger.labels] for row in tags], dtype=int)
        rows[name] = {'checkpoint': ck.name, 'path': ck.path, 'fit_s': fit_s, 'seconds': seconds,
                      'test': task_scores(Y, P, tagger.labels, 'single'), 'decision': tagger.manifest['decision']}
    return {'task': 'single-label: ' + ' / '.join(TOPICS), 'method': 'embedding-knn', 'max_length': t['max_length'],
            'train_issues': len(train), 'test_issues': len(test), **rows,
            'macro_f1_gain': rows['mpnet']['test']['macro_f1'] - rows['minilm']['test']['macro_f1'],
            'seconds_ratio': rows['mpnet']['seconds'] / rows['minilm']['seconds']}


# ---- orchestration -------------------------------------------------------------------------------------------------
def run_stage(stage, args, limit) -> str:
    "One stage in its own process group, killed whole when it runs past `limit` seconds; its status"
    cmd = [sys.executable, __file__, '--stage', stage, '--work', str(args.work), '--out', str(args.out),
           '--limit', str(int(limit)), *(['--cpu-smoke'] if args.cpu_smoke else [])]
    t0 = time.perf_counter()
    child = subprocess.Popen(cmd, start_new_session=True)
    try: code = child.wait(timeout=limit)
    except subprocess.TimeoutExpired:
        os.killpg(child.pid, signal.SIGKILL); child.wait()
        done = args.work/'bench.json'  # the rounds of `train` that finished before the cut
        write_result(args.out, stage, {**device_info(), 'dry_run': args.cpu_smoke, 'status': f'timed out after {limit:.0f} s',
                                       **(json.loads(done.read_text()) if stage == 'train' and done.exists() else {})})
        return 'timed out'
    if code and not (args.out/f'gpu_{stage}.json').exists():
        write_result(args.out, stage, {**device_info(), 'dry_run': args.cpu_smoke, 'status': f'died with exit code {code}'})
    print(f'[gpu_check] {stage}: {"ok" if code == 0 else "failed"} in {time.perf_counter() - t0:.0f} s', flush=True)
    return 'ok' if code == 0 else 'failed'


def one_stage(args):
    "Run `args.stage` here and write its JSON, a failure included (with the error's last line)"
    cfg = SMOKE if args.cpu_smoke else GPU
    args.work.mkdir(parents=True, exist_ok=True)
    head = {**device_info(), 'dry_run': args.cpu_smoke, 'git_commit': git_commit(), 'limit_s': args.limit}
    t0 = time.perf_counter()
    try:
        record = globals()[f'stage_{args.stage}'](cfg, args.work, args.limit)
    except BaseException as e:
        write_result(args.out, args.stage, {**head, 'status': f'failed: {type(e).__name__}: {e}'.splitlines()[0][:500],
                                            'wall_s': time.perf_counter() - t0})
        raise
    write_result(args.out, args.stage, {**head, 'status': 'ok', 'wall_s': time.perf_counter() - t0, **record})


def parse_args(argv=None):
    p = argparse.ArgumentParser('gpu_check', description=__doc__.split('\n')[0], allow_abbrev=False)
    p.add_argument('--cpu-smoke', action='store_true', help='tiny sizes on the CPU: proves the check runs end to end')
    p.add_argument('--only', help=f'comma-separated stages to run (of {",".join(STAGES)})')
    p.add_argument('--skip', default='', help='comma-separated stages to leave out')
    p.add_argument('--budget', type=float, default=560, help='seconds for all stages together (default: %(default)s)')
    p.add_argument('--out', type=Path, help='where gpu_<stage>.json go (default: results/, or a temporary folder with --cpu-smoke)')
    p.add_argument('--work', type=Path, help='scratch folder: corpus, tokenizer, runs, profiler trace (default: temporary)')
    p.add_argument('--stage', choices=STAGES, help=argparse.SUPPRESS); p.add_argument('--limit', type=float, help=argparse.SUPPRESS)
    a = p.parse_args(argv)
    chosen = a.only.split(',') if a.only else list(STAGES)
    if bad := [s for s in chosen + [s for s in a.skip.split(',') if s] if s not in STAGES]:
        p.error(f'unknown stage(s) {bad}: choose from {",".join(STAGES)}')
    a.stages = [s for s in STAGES if s in chosen and s not in a.skip.split(',')]
    return a


def main(argv=None) -> int:
    args = parse_args(argv)
    if args.stage: return one_stage(args)
    import torch
    if not torch.cuda.is_available() and not args.cpu_smoke:
        print('gpu_check: no CUDA device (torch.cuda.is_available() is False); --cpu-smoke runs the dry run on the CPU',
              file=sys.stderr)
        return 2
    args.work = args.work or Path(tempfile.mkdtemp(prefix='gpu-check-'))
    args.out = args.out or (Path(tempfile.mkdtemp(prefix='gpu-check-smoke-')) if args.cpu_smoke else ROOT/'results')
    end, statuses = time.monotonic() + args.budget, {}
    print(f"[gpu_check] {device_info()['device']}; stages {','.join(args.stages)}; results in {args.out}; work in {args.work}", flush=True)
    for stage in args.stages:
        left = end - time.monotonic()
        if left < 10:
            write_result(args.out, stage, {**device_info(), 'dry_run': args.cpu_smoke, 'status': 'skipped: no time left in --budget'})
            statuses[stage] = 'skipped'; continue
        statuses[stage] = run_stage(stage, args, min(LIMITS[stage], left))
    print('[gpu_check] ' + ', '.join(f'{s}: {v}' for s, v in statuses.items()), flush=True)
    return 0 if all(v == 'ok' for v in statuses.values()) else 1


if __name__ == '__main__':
    sys.exit(main())
