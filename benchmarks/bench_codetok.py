"""Byte-level BPE training throughput (MB/s) on the code corpus, against Python's `tokenize` lexing the same text.

    python benchmarks/bench_codetok.py [--corpus data/codecorpus] [--max-bytes N] [--vocab-size 32768 8192]

Both numbers are measured in the same process on the same text, so the ratio holds on a busy machine even when the
absolute MB/s do not. Build the corpus first with `tagparrot corpus build`.
"""
import sys

from tagparrot.codeparrot.codetok import bench_cli

if __name__ == '__main__': sys.exit(bench_cli(sys.argv[1:]))
