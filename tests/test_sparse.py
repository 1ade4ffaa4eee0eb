"Integration tests of tagparrot.future.sparse: every pattern's block-sparse output against dense masked attention, the layout's linear size, and the GPT-2 registry path"
import re

import pytest
import torch

from tagparrot.core import TagparrotError
from tagparrot.future.attention import attention_bench_cli
from tagparrot.future.sparse import (BENCH_SETTINGS, PATTERNS, attention_mask, bench_layout, block_layout,
                              block_sparse_attention, check_against_dense, dense_masked_attention,
                              register_sparse_attention)

FLOAT = r'(-?\d+(?:\.\d+)?(?:e-?\d+)?|nan)'

@pytest.mark.parametrize('n,block', [(200, 32), (64, 64), (97, 16)])
def test_every_pattern_matches_dense(n, block):
    rows = check_against_dense(n=n, block=block)
    assert {r['pattern'] for r in rows} == set(PATTERNS) and {r['causal'] for r in rows} == {False, True}
    worst = max(rows, key=lambda r: max(r['max_abs_diff'], r['max_abs_grad_diff']))
    assert worst['max_abs_diff'] < 1e-12 and worst['max_abs_grad_diff'] < 1e-12, worst

def test_computed_tiles_grow_linearly():
    kept = {n: block_layout(attention_mask('band', n, width=128), 64) for n in (1024, 2048, 4096)}
    cells = {n: l.tile_mask.numel() + l.dense_mask.numel() for n, l in kept.items()}
    assert 1.9 < cells[2048] / cells[1024] < 2.1 and 1.9 < cells[4096] / cells[2048] < 2.1
    assert kept[4096].kept_fraction < 0.08      # 5 of 64 key blocks per query block

@pytest.mark.parametrize('kind', list(BENCH_SETTINGS))
def test_registered_causal_kernels_match_dense(kind):
    torch.manual_seed(0)
    n = 300
    q, k, v = torch.randn(3, 1, 2, n, 16, dtype=torch.float64).unbind(0)
    pattern, settings = BENCH_SETTINGS[kind]
    ref = dense_masked_attention(q, k, v, attention_mask(pattern, n, causal=True, **settings))
    out = block_sparse_attention(q, k, v, bench_layout(kind, n, causal=True))
    assert (out - ref).abs().max() < 1e-12
    out_perturbed = block_sparse_attention(q, k, v.index_fill(2, torch.arange(200, n), 5.), bench_layout(kind, n, causal=True))
    assert torch.equal(out_perturbed[..., :200, :], out[..., :200, :])    # the future never leaks into the past

def test_bench_prints_sparse_exponents(capsys):
    assert register_sparse_attention() == ('band', 'bigbird')
    assert attention_bench_cli(['--lengths', '32', '64', '128', '--n-embd', '32', '--n-head', '2', '--repeats', '1']) == 0
    lines = capsys.readouterr().out.strip().splitlines()
    assert {l.split()[0] for l in lines[1:-2]} == {'eager', 'sdpa', 'linear_elu', 'band', 'bigbird'}
    assert re.search(rf' exponent_band={FLOAT} exponent_bigbird={FLOAT}$', lines[-1]), lines[-1]

def test_bad_input_is_one_line():
    with pytest.raises(TagparrotError, match="unknown attention pattern 'star'"): attention_mask('star', 8)
    with pytest.raises(TagparrotError, match='must be square'): block_layout(torch.ones(3, 4, dtype=torch.bool))
    with pytest.raises(TagparrotError, match='layout is for 64 tokens'):
        block_sparse_attention(*torch.randn(3, 1, 1, 65, 8), block_layout(attention_mask('band', 64), 16))
