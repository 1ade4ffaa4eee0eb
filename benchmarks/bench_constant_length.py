"""Tokens/s of `ConstantLengthDataset` against the spec's single-process version, and against the training step.

    python benchmarks/bench_constant_length.py [--seconds 10] [--vocab 8192]

Both read the same texts (the Python standard library, repeated) with the same byte-level BPE and produce the
same 1,024-token sequences. The baseline is the spec's class with its nested-loop typo fixed and its debug prints
removed (both only make it slower). Printed: tokens/s of each variant and the ratio to the baseline, measured in
the same process, alternating, median of three rounds, and for the single-process variants tokens per second of
CPU time (on a shared machine the wall clock mostly measures the neighbours). Tokenizing is nearly all of the
cost, so past the single-process gain (no offsets, numpy joining) the speed-up comes from workers and needs
free cores: run it with `--workers 4,8` on a machine that has them.
"""
import argparse, os, statistics, sys, tempfile, time
from pathlib import Path

os.environ.setdefault('TOKENIZERS_PARALLELISM', 'false')
import torch
from torch.utils.data import DataLoader, IterableDataset

from tagparrot.pretrain import ConstantLengthDataset, stdlib_texts, train_tiny_tokenizer


class SpecConstantLengthDataset(IterableDataset):
    "The spec's version: tokenizer __call__ on the buffer, Python lists, torch.tensor per chunk, tail dropped"
    def __init__(self, tokenizer, dataset, seq_length=1024, num_of_sequences=1024, chars_per_token=3.6):
        self.tokenizer, self.concat_token_id, self.dataset = tokenizer, tokenizer.eos_token_id, dataset
        self.seq_length, self.input_characters = seq_length, seq_length * chars_per_token * num_of_sequences

    def __iter__(self):
        iterator = iter(self.dataset)
        while True:
            buffer, buffer_len = [], 0
            while buffer_len < self.input_characters:
                try:
                    buffer.append(next(iterator)['content']); buffer_len += len(buffer[-1])
                except StopIteration: iterator = iter(self.dataset)
            all_token_ids = []
            for ids in self.tokenizer(buffer, truncation=False)['input_ids']:
                all_token_ids.extend(ids + [self.concat_token_id])
            for i in range(0, len(all_token_ids), self.seq_length):
                input_ids = all_token_ids[i:i + self.seq_length]
                if len(input_ids) == self.seq_length: yield torch.tensor(input_ids)


def tokens_per_s(make_iter, seconds, seq_length):
    "(tokens per wall second, tokens per second of this process's CPU time) after the first sequence"
    it = make_iter(); next(it)  # start-up (worker processes, first buffer) is not what we measure
    n, t0, c0 = 0, time.perf_counter(), time.process_time()
    while time.perf_counter() - t0 < seconds: x = next(it); n += x.numel()
    return n / (time.perf_counter() - t0), n / max(time.process_time() - c0, 1e-9)


def main(argv=None):
    p = argparse.ArgumentParser(); p.add_argument('--seconds', type=float, default=10); p.add_argument('--vocab', type=int, default=8192)
    p.add_argument('--seq_length', type=int, default=1024); p.add_argument('--rounds', type=int, default=3)
    p.add_argument('--workers', default='2', help='comma-separated DataLoader worker counts to try')
    args = p.parse_args(argv)
    torch.set_num_threads(1)
    texts = stdlib_texts()
    tok = train_tiny_tokenizer(texts, args.vocab, Path(tempfile.mkdtemp())/'tok')
    rows = [{'content': t} for t in texts] * 20  # plain list: DataLoader workers split it by position
    L, nseq = args.seq_length, 64
    variants = {
        'spec (1 process)': lambda: iter(SpecConstantLengthDataset(tok, rows, L, nseq)),
        'ours (1 process)': lambda: iter(ConstantLengthDataset(tok, rows, L, nseq, infinite=True)),
    }
    for w in map(int, args.workers.split(',')):
        variants[f'ours ({w} workers)'] = lambda w=w: (b for batch in DataLoader(
            ConstantLengthDataset(tok, rows, L, nseq, infinite=True), batch_size=8, num_workers=w) for b in batch)
    runs = {k: [] for k in variants}
    for _ in range(args.rounds):
        for name, make in variants.items(): runs[name].append(tokens_per_s(make, args.seconds, L))
    med = {k: [statistics.median(x) for x in zip(*v)] for k, v in runs.items()}
    base = med['spec (1 process)']
    print(f'vocabulary {len(tok)}, sequences of {L} tokens, median of {args.rounds} x {args.seconds:.0f}s, '
          f'{os.cpu_count()} cores (CPU-s counts this process only, so not the workers)')
    for name, (wall, cpu) in med.items():
        per_cpu = f'{cpu/1e3:9.1f}k per CPU-s ratio {cpu/base[1]:5.2f}x' if 'workers' not in name else ''
        print(f'{name:18s} {wall/1e3:9.1f}k tokens/s   ratio {wall/base[0]:5.2f}x   {per_cpu}')
    return med


if __name__ == '__main__':
    main()
