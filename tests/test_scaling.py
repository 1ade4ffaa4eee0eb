"Integration tests of tagparrot.future.scaling: the CLI contracts, the power-law fit, and the notebook under papermill"
import json, os, re, subprocess, sys
from pathlib import Path

import numpy as np
import pytest

from tagparrot.cli import main
from tagparrot.future.scaling import fit_power_law, scaling_cli

ROOT = Path(__file__).resolve().parents[1]
TAGPARROT = Path(sys.executable).parent/'tagparrot'
FLOAT = r'(-?\d+(?:\.\d+)?(?:e-?\d+)?|nan)'

def run_cli(*args, cwd=ROOT):
    env = dict(os.environ, HF_HUB_OFFLINE='1', TRANSFORMERS_OFFLINE='1', MPLBACKEND='Agg')
    out = subprocess.run([str(TAGPARROT), *args], capture_output=True, text=True, cwd=cwd, env=env, timeout=120)
    assert out.returncode == 0, out.stderr[-2000:]
    return out.stdout.strip().splitlines()

@pytest.mark.parametrize('alpha', [0.05, 0.076, 0.3])
@pytest.mark.parametrize('seed', [0, 1])
def test_fit_recovers_known_alpha(alpha, seed):
    rng = np.random.default_rng(seed)
    n = np.geomspace(1e5, 5e6, 5)
    loss = (1e12 / n) ** alpha * np.exp(rng.normal(0, 0.005, n.size))
    fit = fit_power_law(n, loss)
    assert abs(fit.alpha - alpha) < max(4 * fit.alpha_err, 1e-3)
    assert np.isclose(fit.log_xc, np.log(1e12), rtol=0.2)

def test_fit_is_exact_without_noise():
    n = np.array([1e5, 1e6, 1e7])
    fit = fit_power_law(n, (3e9 / n) ** 0.1)
    assert abs(fit.alpha - 0.1) < 1e-9 and fit.alpha_err < 1e-9

@pytest.mark.slow
def test_scaling_train_and_fit_console_script(tmp_path):
    runs = tmp_path/'runs'
    run_cli('scaling', 'train', '--out', str(runs), '--preset', 'quick', '--max-steps', '2')
    rows = [json.loads(p.read_text()) for p in runs.glob('*.json')]
    assert len(rows) == 5 and len({r['train_tokens'] for r in rows}) == 1
    last = run_cli('scaling', 'fit', '--runs', str(runs))[-1]
    assert re.fullmatch(rf'alpha={FLOAT} alpha_err={FLOAT}', last), last
    assert run_cli('scaling', 'fit', '--runs', str(runs), '--study', 'D')[-1].startswith('alpha=')

def test_fit_cli_on_known_rows(tmp_path, capsys):
    for i, n in enumerate([1e5, 4e5, 1.6e6, 6.4e6]):
        row = dict(study='N', name=f'm{i}', params_non_embedding=int(n), data_tokens=1000, eval_loss=(1e10 / n) ** 0.2,
                   best_eval_loss=(1e10 / n) ** 0.2)
        (tmp_path/f'm{i}.json').write_text(json.dumps(row))
    assert scaling_cli(['fit', '--runs', str(tmp_path)]) == 0
    last = capsys.readouterr().out.strip().splitlines()[-1]
    assert last == 'alpha=0.2000 alpha_err=0.0000', last

def test_fit_cli_bad_input_is_one_line(tmp_path, capsys):
    (tmp_path/'broken.json').write_text('{"study": "N",\n "eval_loss": }')
    assert main(['scaling', 'fit', '--runs', str(tmp_path)]) == 1
    err = capsys.readouterr().err
    assert 'broken.json: line 2' in err and 'Traceback' not in err
    assert main(['scaling', 'fit', '--runs', str(tmp_path/'missing')]) == 1

def parameters_cells(notebook: str) -> list[str]:
    "Sources of the cells of `nbs/<notebook>` tagged `parameters` (nbdev_clean must keep the tag)"
    nb = json.loads((ROOT/'nbs'/notebook).read_text())
    return [''.join(c['source']) for c in nb['cells'] if 'parameters' in c.get('metadata', {}).get('tags', [])]

def test_cleaned_notebook_keeps_parameters_cell():
    tagged = parameters_cells('15_future.ipynb')
    assert len(tagged) == 1 and 'scaling_preset' in tagged[0]

@pytest.mark.slow
def test_notebook_runs_under_papermill_with_tiny_budget(tmp_path):
    pm = pytest.importorskip('papermill')
    params = dict(scaling_preset='quick', scaling_max_steps=2, runs_dir=str(tmp_path/'runs'),
                  figures_dir=str(tmp_path/'figures'), results_dir=str(tmp_path/'results'))
    pm.execute_notebook(str(ROOT/'nbs'/'15_future.ipynb'), str(tmp_path/'out.ipynb'), parameters=params,
                        kernel_name='python3', cwd=str(ROOT/'nbs'), progress_bar=False)
    assert (tmp_path/'figures'/'scaling_law_quick.png').exists() and (tmp_path/'figures'/'scaling_law_quick.svg').exists()
    assert (tmp_path/'results'/'scaling_law_quick.csv').exists()
