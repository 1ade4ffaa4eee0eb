"The project's own contracts: notebooks clean and in sync, papermill parameters survive nbdev_clean."
import json, shutil, subprocess, sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
BIN = Path(sys.executable).parent


def test_parameters_tag_survives_nbdev_clean(tmp_path):
    src = ROOT/'nbs'/'03_baseline.ipynb'
    nb = tmp_path/'nbs'/'x.ipynb'
    nb.parent.mkdir()
    shutil.copy(src, nb)
    shutil.copy(ROOT/'settings.ini', tmp_path/'settings.ini')
    subprocess.run([str(BIN/'nbdev_clean'), '--fname', str(nb)], check=True, cwd=tmp_path)
    cells = json.loads(nb.read_text())['cells']
    assert any('parameters' in c.get('metadata', {}).get('tags', []) for c in cells)


def test_every_experiment_notebook_has_a_parameters_cell():
    for nb in sorted((ROOT/'nbs').glob('[0-9][0-9]_*.ipynb')) + [ROOT/'nbs'/'10c_study_report.ipynb']:
        if nb.name[:2] in ('00', '01', '02', '11', '12', '19', '20', '21'): continue  # libraries, not experiments
        if nb.name == '10_study.ipynb': continue  # the runner; its report, 10c, takes the parameters
        cells = json.loads(nb.read_text())['cells']
        assert any('parameters' in c.get('metadata', {}).get('tags', []) for c in cells), nb.name


def test_notebooks_are_clean():
    for nb in sorted((ROOT/'nbs').glob('*.ipynb')):
        d = json.loads(nb.read_text())
        for c in d['cells']:
            assert set(c.get('metadata', {})) <= {'tags'}, (nb.name, c.get('metadata'))
            if c['cell_type'] == 'code': assert c.get('execution_count') is None, nb.name


def test_package_imports_without_the_notebooks():
    code = 'from tagparrot.data import load_issue_splits; from tagparrot.methods import METHODS; print(len(METHODS))'
    r = subprocess.run([sys.executable, '-c', code], capture_output=True, text=True, cwd='/')
    assert r.returncode == 0, r.stderr


def test_every_module_docstring_is_a_sentence():
    "Each module says what it is in at least one whole sentence (nbdev takes the notebook's one-line `>` description)"
    import importlib, pkgutil, tagparrot
    names = ['tagparrot'] + [m.name for m in pkgutil.walk_packages(tagparrot.__path__, 'tagparrot.') if not m.name.endswith('_modidx')]
    cut = {n: doc for n in names if not (doc := (importlib.import_module(n).__doc__ or '').strip()).endswith(('.', '!', '?'))}
    assert not cut, f"module docstrings that stop mid-sentence: {cut}"


def test_no_module_but_the_command_line_names_a_module_as_a_string():
    "Modules import each other by name; only `cli`'s command table (lazy imports) and `core.MOVED` (paths that no longer exist) spell paths"
    import ast, re
    pkg, found = Path(__file__).resolve().parents[1]/'tagparrot', []
    for f in sorted(pkg.rglob('*.py')):
        if f.name == '_modidx.py' or f == pkg/'cli.py': continue
        tree = ast.parse(f.read_text())
        moved = {id(n) for a in ast.walk(tree) if isinstance(a, ast.Assign) and any(getattr(t, 'id', '') == 'MOVED' for t in a.targets)
                 for n in ast.walk(a.value)}
        found += [f"{f.name}:{n.lineno} {n.value}" for n in ast.walk(tree) if isinstance(n, ast.Constant) and isinstance(n.value, str)
                  and re.fullmatch(r'tagparrot(\.\w+)+(:\w+)?', n.value) and id(n) not in moved]
    assert not found, found
