"""How fast can an encoder-based tagger score issues on this CPU? The fp32 bound, and what lies past it.

    python benchmarks/bench_encoder_ceiling.py [--n 256] [--threads 2]

Encodes `--n` issues of the default file (title and body as the tagger joins them) with the packaged sentence
encoder at the zero-shot method's 256-token limit, and prints: the mean tokens per issue, the encoder FLOPs per
issue, a large fp32 matrix product's FLOP/s on these threads and so the most issues/s any exact fp32 scorer can
reach here (the ceiling); then issues/s of the real encoder (the baseline) and, as ratios against it, of two ways
past the bound that change the scores: 128-token truncation and int8 dynamic quantization of the linear layers,
each with the mean cosine of its embeddings to the baseline's (1.0: the same scores).
"""
import argparse, time, warnings

import numpy as np
import torch

from tagparrot.core import resolve_checkpoint
from tagparrot.data import read_issues
from tagparrot.tagger import issue_text
from tagparrot.zeroshot_bench import encoder_forward_flops, matmul_flops_per_s


def issues_per_s(model, texts, batch_size=64):
    model.encode(texts[:8], batch_size=batch_size)  # warm-up
    t0 = time.perf_counter()
    emb = model.encode(texts, batch_size=batch_size, normalize_embeddings=True)
    return len(texts) / (time.perf_counter() - t0), emb


def main(argv=None):
    p = argparse.ArgumentParser('bench_encoder_ceiling', description=__doc__.split('\n')[0], allow_abbrev=False)
    p.add_argument('--n', type=int, default=256, help='issues encoded (default: %(default)s)')
    p.add_argument('--threads', type=int, default=2, help='torch threads (default: %(default)s)')
    a = p.parse_args(argv)
    from sentence_transformers import SentenceTransformer
    torch.set_num_threads(a.threads)
    texts = [issue_text(r) for r in read_issues()[200:200 + a.n]]
    model = SentenceTransformer(resolve_checkpoint('encoder').path, device='cpu')
    model.max_seq_length = 256
    lens = [len(model.tokenizer(t, truncation=True, max_length=256)['input_ids']) for t in texts]
    per_issue = np.mean([encoder_forward_flops(model[0].auto_model, n) for n in lens])
    peak = matmul_flops_per_s(a.threads)
    print(f"{np.mean(lens):.0f} tokens per issue ({np.mean(np.array(lens) == 256):.0%} cut at 256), "
          f"{per_issue / 1e9:.2f} GFLOP per issue; fp32 matmul {peak / 1e9:.0f} GFLOP/s on {a.threads} thread(s)")
    base, e0 = issues_per_s(model, texts)
    model.max_seq_length = 128
    short, e1 = issues_per_s(model, texts)
    model.max_seq_length = 256
    with warnings.catch_warnings():  # torch.ao.quantization is deprecated in favour of torchao, not yet a dependency here
        warnings.simplefilter('ignore')
        q = torch.ao.quantization.quantize_dynamic(model, {torch.nn.Linear}, dtype=torch.qint8)
    int8, e2 = issues_per_s(q, texts)
    cos = lambda e: float(np.mean((e0 * e).sum(1)))
    print(f"fp32 at 256 tokens: {base:.1f} issues/s ({base * per_issue / peak:.0%} of the bound)")
    print(f"128 tokens: x{short / base:.2f}, cosine to fp32-256 {cos(e1):.3f}; int8 dynamic: x{int8 / base:.2f}, cosine {cos(e2):.3f}")
    print(f"issues_per_s={base:.1f} ceiling_fp32={peak / per_issue:.1f} target=40 reachable_exact={str(peak / per_issue >= 40).lower()}")


if __name__ == '__main__': main()
