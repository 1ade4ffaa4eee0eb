"""Tokens/s of `ConstantLengthDataset` against the spec's single-process version, and against the training step.

    python benchmarks/bench_constant_length.py [--seconds 5] [--rounds 3] [--workers 2] [--vocab 8192]

Every variant reads the same texts (the Python standard library, repeated) with the same byte-level BPE and
produces 1,024-token sequences. The baseline is the spec's class with its nested-loop typo fixed and its debug
prints removed (both only make it slower), run as one process with `tokenizers`' own threads off; the spec's
class with those threads on (its default when nothing set `TOKENIZERS_PARALLELISM`) is printed beside it.
The worker variants hand over batches of 32 sequences (what crosses between processes costs per batch).
Measured in one process, alternating variants, median of `--rounds`; tokens per second of CPU time are printed for
the in-process variants (on a shared machine the wall clock also measures the neighbours).

`equal` on the last line: the first 200 sequences from the tiktoken path are the ones the tokenizer's own path
gives (same seed, same shuffling). The training step is the tiny preset's (forward, backward, AdamW, one thread)
on this CPU; for a GPU the needed rate is computed from GPT-2 small's FLOPs per token at MFU 0.40 on an H200.
"""
import argparse, os, statistics, tempfile, time
from pathlib import Path

os.environ.setdefault('TOKENIZERS_PARALLELISM', 'false')
import torch
from torch.utils.data import DataLoader, IterableDataset

from tagparrot.codeparrot.pretrain import ConstantLengthDataset, build_model, flops_per_token, parse_args, stdlib_texts, train_tiny_tokenizer


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


def rust_threads(on: bool):
    "Wrap an iterator factory so `tokenizers` may (or may not) use its thread pool while it runs"
    def wrap(make):
        def run():
            os.environ['TOKENIZERS_PARALLELISM'] = 'true' if on else 'false'
            try: yield from make()
            finally: os.environ['TOKENIZERS_PARALLELISM'] = 'false'
        return run
    return wrap


def tokens_per_s(make_iter, seconds):
    "(tokens per wall second, tokens per second of this process's CPU time) after the first sequence or batch"
    it = make_iter(); next(it)  # start-up (worker processes, first buffer) is not what we measure
    n, t0, c0 = 0, time.perf_counter(), time.process_time()
    while time.perf_counter() - t0 < seconds: n += next(it).numel()
    return n / (time.perf_counter() - t0), n / max(time.process_time() - c0, 1e-9)


def step_tokens_per_s(tok, steps=6):
    "Training tokens/s of the tiny preset's model and batch on one CPU thread (forward, backward, AdamW)"
    args = parse_args(['--output_dir', tempfile.mkdtemp()])
    model = build_model(args, tok).train()
    opt = torch.optim.AdamW(model.parameters(), lr=1e-3)
    x = torch.randint(0, len(tok), (args.train_batch_size, args.seq_length))
    for i in range(steps + 1):
        if i == 1: t0 = time.perf_counter()  # the first step allocates the optimizer state
        model(x, labels=x).loss.backward(); opt.step(); opt.zero_grad()
    return x.numel() * steps / (time.perf_counter() - t0)


def gpu_tokens_needed(tok_len=32768, mfu=0.40, peak=989e12):
    "Tokens/s GPT-2 small consumes on an H200 at `mfu`: peak x MFU / training FLOPs per token"
    args = parse_args(['--output_dir', tempfile.mkdtemp(), '--n_layer', '12', '--n_head', '12', '--n_embd', '768',
                       '--seq_length', '1024'])
    with torch.device('meta'):  # shapes only: count the parameters without allocating them
        model = build_model(args, type('Tok', (), {'__len__': lambda s: tok_len, 'eos_token_id': 0})())
    return mfu * peak / flops_per_token(model, 1024)


def main(argv=None):
    p = argparse.ArgumentParser(); p.add_argument('--seconds', type=float, default=5); p.add_argument('--vocab', type=int, default=8192)
    p.add_argument('--seq_length', type=int, default=1024); p.add_argument('--rounds', type=int, default=3)
    p.add_argument('--workers', default='2', help='comma-separated DataLoader worker counts to try (tiktoken path)')
    args = p.parse_args(argv)
    torch.set_num_threads(1)
    texts = stdlib_texts()
    tok = train_tiny_tokenizer(texts, args.vocab, Path(tempfile.mkdtemp())/'tok')
    rows = [{'content': t} for t in texts] * 20  # plain list: DataLoader workers split it by position
    L, nseq = args.seq_length, 64
    ours = lambda encoder: lambda: iter(ConstantLengthDataset(tok, rows, L, nseq, infinite=True, encoder=encoder))
    variants = {
        'spec (1 process)': lambda: iter(SpecConstantLengthDataset(tok, rows, L, nseq)),
        'spec, Rust threads': rust_threads(True)(lambda: iter(SpecConstantLengthDataset(tok, rows, L, nseq))),
        'ours, tokenizers': ours('hf'),
        'ours, tiktoken': ours('tiktoken'),
    }
    for w in map(int, args.workers.split(',')):
        variants[f'ours, {w} workers'] = lambda w=w: iter(DataLoader(  # whole batches: the IPC cost is per batch
            ConstantLengthDataset(tok, rows, L, nseq, infinite=True), batch_size=32, num_workers=w))
    runs = {k: [] for k in variants}
    for _ in range(args.rounds):
        for name, make in variants.items(): runs[name].append(tokens_per_s(make, args.seconds))
    med = {k: [statistics.median(x) for x in zip(*v)] for k, v in runs.items()}
    base = med['spec (1 process)']
    first = lambda enc: [next(it).tolist() for it in [ours(enc)()] for _ in range(200)]
    equal = first('tiktoken') == first('hf')
    step, gpu = step_tokens_per_s(tok), gpu_tokens_needed()
    print(f'vocabulary {len(tok)}, sequences of {L} tokens, median of {args.rounds} x {args.seconds:.0f}s, '
          f'{os.cpu_count()} cores (CPU-s counts this process only: not the workers, not Rust threads)')
    for name, (wall, cpu) in med.items():
        per_cpu = f'{cpu/1e3:9.1f}k per CPU-s ratio {cpu/base[1]:5.2f}x' if 'workers' not in name and 'Rust' not in name else ''
        print(f'{name:20s} {wall/1e3:9.1f}k tokens/s   ratio {wall/base[0]:5.2f}x   {per_cpu}')
    best = max(wall for wall, _ in med.values())
    print(f'training step, tiny preset, 1 CPU thread: {step/1e3:.1f}k tokens/s -> the loader is {best/step:.0f}x faster')
    print(f'GPT-2 small on an H200 at MFU 0.40 needs {gpu/1e3:.0f}k tokens/s -> one tiktoken process gives '
          f"{med['ours, tiktoken'][0]/gpu:.1f}x that")
    print(f"ratio={med['ours, tiktoken'][0]/base[0]:.2f} equal={str(equal).lower()}")
    return med


if __name__ == '__main__':
    main()
