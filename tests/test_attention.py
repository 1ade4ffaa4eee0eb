"Integration tests of tagparrot.future.attention: the linearised attention, the bench's last line, and the notebook under papermill"
import re

import pytest
import torch

from tagparrot.future.attention import attention_bench_cli, causal_kernel_attention_naive, causal_linear_attention
from test_scaling import FLOAT, ROOT, parameters_cells, run_cli

TINY_BENCH = ['--lengths', '32', '64', '128', '--n-embd', '32', '--n-head', '2', '--repeats', '1']

def test_linear_attention_matches_naive_and_is_causal():
    torch.manual_seed(1)
    q, k, v = torch.randn(3, 1, 3, 37, 8, dtype=torch.float64).unbind(0)
    ref = causal_kernel_attention_naive(q, k, v)
    for chunk in (1, 5, 16, 64):
        assert torch.allclose(causal_linear_attention(q, k, v, chunk), ref, atol=1e-10)
    q2 = q.clone(); q2[..., 20:, :] = 0; k2 = k.clone(); k2[..., 20:, :] *= -3
    assert torch.allclose(causal_linear_attention(q2, k2, v, 16)[..., :20, :], ref[..., :20, :], atol=1e-10)

def test_linear_attention_gradients_finite():
    q, k, v = (torch.randn(2, 2, 50, 16, requires_grad=True) for _ in range(3))
    causal_linear_attention(q, k, v, 16).sum().backward()
    assert all(torch.isfinite(t.grad).all() for t in (q, k, v))

def test_attention_bench_last_line(capsys):
    assert attention_bench_cli(TINY_BENCH) == 0
    last = capsys.readouterr().out.strip().splitlines()[-1]
    assert re.fullmatch(rf'exponent_eager={FLOAT} exponent_sdpa={FLOAT} exponent_linear={FLOAT} exponent_band={FLOAT} exponent_bigbird={FLOAT}', last), last

def test_attention_bench_console_script():
    lines = run_cli('bench', 'attention', *TINY_BENCH)
    assert lines[0].split()[:2] == ['kind', 'seq_len'] and lines[-1].startswith('exponent_eager=')

def test_cleaned_notebook_keeps_parameters_cell():
    tagged = parameters_cells('15b_attention.ipynb')
    assert len(tagged) == 1 and 'attention_lengths' in tagged[0]

@pytest.mark.slow
def test_notebook_runs_under_papermill_with_tiny_budget(tmp_path):
    pm = pytest.importorskip('papermill')
    params = dict(attention_lengths=[32, 64, 128], attention_repeats=1, attention_n_embd=32, attention_n_head=2,
                  figures_dir=str(tmp_path/'figures'), results_dir=str(tmp_path/'results'))
    pm.execute_notebook(str(ROOT/'nbs'/'15b_attention.ipynb'), str(tmp_path/'out.ipynb'), parameters=params,
                        kernel_name='python3', cwd=str(ROOT/'nbs'), progress_bar=False)
    assert (tmp_path/'figures'/'attention_cost.png').exists() and (tmp_path/'figures'/'attention_cost.svg').exists()
    assert (tmp_path/'results'/'attention_cost.csv').exists()
