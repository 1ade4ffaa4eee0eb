"""Fast NLI zero-shot scorer vs the `zero-shot-classification` pipeline: same texts, same model, one run.

Usage: python benchmarks/bench_zeroshot.py [--texts N] [--chars N] [--threads N]   (same as `tagparrot bench zero-shot`)
The last line is `ratio=<speed-up> equal=<true|false>`.
"""
import sys
from tagparrot.zeroshot_bench import bench_cli

if __name__ == '__main__': sys.exit(bench_cli(sys.argv[1:]))
