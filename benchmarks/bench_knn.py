"""(k, m) grid of the embedding lookup from one neighbour search vs one search (and one report) per cell.

Usage: python benchmarks/bench_knn.py [--k-max N] [--threads N]   (same as `tagparrot bench knn-grid`)
The last line is `ratio=<speed-up> equal=<true|false>`.
"""
import sys
from tagparrot.knn import bench_cli

if __name__ == '__main__': sys.exit(bench_cli(sys.argv[1:]))
