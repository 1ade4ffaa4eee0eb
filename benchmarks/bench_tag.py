"""Tagging speed of a saved encoder-based tagger: issues per second, batched against one issue at a time.

Usage: python benchmarks/bench_tag.py [--method zero-shot-embed] [--preset default] [--n 256] [--single 32]
                                      [--batch-size 64] [--threads N]
The tagger is trained on 120 labeled issues of the default file, saved and loaded back; it then tags `--n` other
issues of that file in batches and `--single` others one at a time (different issues, and the embedding cache in a
fresh folder, so that no issue is ever read from a cache). Issues keep their full text: the method truncates to its
own token limit (`max_seq_length`, 256 with the default preset).
The last line is `issues_per_s=<batched> single_per_s=<one at a time> ratio=<batched/single> target=40 met=<true|false>`.
"""
import argparse, tempfile, time
from pathlib import Path

import pandas as pd
import torch

from tagparrot.data import LABEL_PRESETS, issue_text, read_issues
from tagparrot.tagger import load_tagger, train_tagger


def main(argv=None):
    p = argparse.ArgumentParser('bench_tag', allow_abbrev=False, description=__doc__.split('\n')[0])
    p.add_argument('--method', default='zero-shot-embed', help='an encoder-based method (default: %(default)s)')
    p.add_argument('--preset', default='default', help="the method's budget preset (default: %(default)s)")
    p.add_argument('--n', type=int, default=256, help='issues tagged in batches (default: %(default)s)')
    p.add_argument('--single', type=int, default=32, help='issues tagged one at a time (default: %(default)s)')
    p.add_argument('--batch-size', type=int, default=64, help='issues per batch (default: %(default)s)')
    p.add_argument('--threads', type=int, help='torch threads (default: torch\'s own choice)')
    a = p.parse_args(argv)
    if a.threads: torch.set_num_threads(a.threads)
    recs = read_issues()
    topics = set(LABEL_PRESETS['hf-datasets'])
    labeled = [r for r in recs if set(r['labels']) & topics][:120]
    train = pd.DataFrame([{'title': r['title'], 'body': r['body'], 'labels': r['labels']} for r in labeled])
    with tempfile.TemporaryDirectory() as tmp:
        t0 = time.perf_counter()
        tagger = train_tagger(train, 'hf-datasets', a.method, settings={'preset': a.preset, 'cache_dir': str(Path(tmp)/'cache')})
        tagger = load_tagger(tagger.save(Path(tmp)/'tagger'))
        print(f"trained, saved and loaded {a.method} ({a.preset}) in {time.perf_counter() - t0:.1f} s; torch threads {torch.get_num_threads()}")
        seen = {r['title'] for r in labeled}
        rest = [issue_text(r) for r in recs if r['title'] not in seen]
        batched, single = rest[:a.n], rest[a.n:a.n + a.single]
        t0 = time.perf_counter(); tagger.predict(batched, batch_size=a.batch_size); t_batched = time.perf_counter() - t0
        t0 = time.perf_counter()
        for t in single: tagger.predict([t], batch_size=1)
        t_single = time.perf_counter() - t0
    fast, slow = len(batched) / t_batched, len(single) / t_single
    print(f"batched: {len(batched)} issues in {t_batched:.1f} s; one at a time: {len(single)} issues in {t_single:.1f} s")
    print(f"issues_per_s={fast:.1f} single_per_s={slow:.1f} ratio={fast / slow:.2f} target=40 met={str(fast >= 40).lower()}")


if __name__ == '__main__': main()
