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
    """Modules import each other by name. Only `cli`'s command table (lazy imports), `core.MOVED` (paths that no longer
    exist) and `core.PACKAGED` spell paths: the checkpoint table names the large encoder's module the way it names the
    MiniLM package's, by module and function, so `core`, below everything, imports nothing above it."""
    import ast, re
    pkg, found = Path(__file__).resolve().parents[1]/'tagparrot', []
    for f in sorted(pkg.rglob('*.py')):
        if f.name == '_modidx.py' or f == pkg/'cli.py': continue
        tree = ast.parse(f.read_text())
        tables = {id(n) for a in ast.walk(tree) if isinstance(a, ast.Assign)
                  and any(getattr(t, 'id', '') in ('MOVED', 'PACKAGED') for t in a.targets) for n in ast.walk(a.value)}
        found += [f"{f.name}:{n.lineno} {n.value}" for n in ast.walk(tree) if isinstance(n, ast.Constant) and isinstance(n.value, str)
                  and re.fullmatch(r'tagparrot(\.\w+)+(:\w+)?', n.value) and id(n) not in tables]
    assert not found, found


# The layers, lowest first: a module imports, at its top level, only from its own layer and the layers below.
LAYERS = [
    ('tagparrot',),                                   # the package: its version, and entry points loaded on first use
    ('tagparrot.core',),
    ('tagparrot.data', 'tagparrot.large_encoder'),
    ('tagparrot.evaluation',),
    ('tagparrot.encoders', 'tagparrot.baseline', 'tagparrot.zeroshot', 'tagparrot.zeroshot_bench', 'tagparrot.augment',
     'tagparrot.knn', 'tagparrot.finetune', 'tagparrot.domain', 'tagparrot.semi',   # the methods and what they share
     'tagparrot.codeparrot', 'tagparrot.future'),                                   # the code-model chapters, on core alone
    ('tagparrot.methods',),                           # the registry
    ('tagparrot.runner',),                            # the slice runner, which builds methods by name
    ('tagparrot.study', 'tagparrot.cluster', 'tagparrot.tagger', 'tagparrot.labeling'),
    ('tagparrot.own', 'tagparrot.triage'),           # the own-labels protocol and triage, built on the tagger
    ('tagparrot.cli', 'tagparrot.__main__'),
]

# Imports of the package's own modules inside functions: each one loads something heavy on first use, and none
# dodges a cycle (the test below checks that none would close one at the top level). Anything else is imported at
# the top of its module; an import moved into a function to break a cycle is a layering bug.
LAZY_IMPORTS = {
    ('tagparrot', '__getattr__'): 'the tagger\'s and labeling\'s entry points: `import tagparrot` stays light',
    ('tagparrot.augment', 'NaiveBayesAug._options'): 'domain loads torch and transformers, for masked-LM substitution only',
    ('tagparrot.codeparrot.codeeval', 'code_perplexity'): 'pretrain loads torch; the sandbox and pass@k need none of it',
}


def _package_imports(pkg: Path = ROOT/'tagparrot'):
    "Per module of the package: the package modules it imports at its top level, and those it imports inside functions"
    import ast
    files = {}
    for f in sorted(pkg.rglob('*.py')):
        if f.name == '_modidx.py': continue
        parts = f.relative_to(pkg.parent).with_suffix('').parts
        files['.'.join(parts[:-1] if parts[-1] == '__init__' else parts)] = f
    def targets(node, module):
        if isinstance(node, ast.Import): return [a.name for a in node.names if a.name.split('.')[0] == 'tagparrot']
        here = module.split('.') if files[module].name == '__init__.py' else module.split('.')[:-1]
        base = '.'.join(here[:len(here) - node.level + 1] + (node.module or '').split('.')).strip('.') if node.level else node.module or ''
        if base.split('.')[0] != 'tagparrot': return []
        return [f'{base}.{a.name}' for a in node.names if f'{base}.{a.name}' in files] or [base]
    top, inner = {m: set() for m in files}, {}
    def visit(node, module, scope, in_function):
        for child in ast.iter_child_nodes(node):
            if isinstance(child, (ast.Import, ast.ImportFrom)):
                for t in targets(child, module):
                    if in_function: inner.setdefault((module, '.'.join(scope)), set()).add(t)
                    else: top[module].add(t)
            elif isinstance(child, (ast.FunctionDef, ast.AsyncFunctionDef, ast.Lambda)):
                visit(child, module, scope + [getattr(child, 'name', 'lambda')], True)
            elif isinstance(child, ast.ClassDef): visit(child, module, scope + [child.name], in_function)  # a class body runs at import
            else: visit(child, module, scope, in_function)
    for m, f in files.items(): visit(ast.parse(f.read_text()), m, [], False)
    return top, inner


def _layer(module: str) -> int:
    found = [i for i, layer in enumerate(LAYERS) for name in layer if module == name or module.startswith(name + '.')]
    assert found, f"{module} is in no layer of LAYERS: place it there"
    return max(found)


def test_no_package_import_inside_a_function_but_the_lazy_ones():
    "An import of a package module inside a function is allowed only where LAZY_IMPORTS says why"
    top, inner = _package_imports()
    unexplained = sorted(f"{m}.{fn} imports {sorted(t)}" for (m, fn), t in inner.items() if (m, fn) not in LAZY_IMPORTS)
    assert not unexplained, "imports inside functions (move them to the module's top, or explain them):\n" + '\n'.join(unexplained)
    assert set(LAZY_IMPORTS) <= set(inner), f"allowances no longer needed: {set(LAZY_IMPORTS) - set(inner)}"
    for (m, fn), targets in inner.items():  # lazy, not dodging: at the top level it would close no cycle
        if m == 'tagparrot': continue        # the package's facade points up by design; nothing imports it but for its version
        assert not _closes_cycle(top, m, targets), f"{m}.{fn}: imported at the top level, {sorted(targets)} would close a cycle"


def _closes_cycle(top: dict, module: str, targets: set) -> list:
    "The cycle that importing `targets` at the top of `module` would close, else []"
    return _cycle({k: set(v) | (targets if k == module else set()) for k, v in top.items()})


def _cycle(graph: dict) -> list:
    "A cycle of the import graph (edges into the root package left out: it is imported before any submodule), else []"
    state, stack = {}, []
    def walk(m):
        state[m] = 'open'; stack.append(m)
        for t in sorted(graph.get(m, ())):
            if t == 'tagparrot': continue
            if state.get(t) == 'open': return stack[stack.index(t):] + [t]
            if t not in state and (c := walk(t)): return c
        state[m] = 'done'; stack.pop()
        return []
    for m in sorted(graph):
        if m not in state and (c := walk(m)): return c
    return []


def test_the_module_import_graph_has_no_cycle_and_respects_the_layers():
    "Top-level imports only: no cycle, and none points up the layers of LAYERS"
    top, _ = _package_imports()
    assert not top['tagparrot'], f"the package's __init__ imports {top['tagparrot']} at its top level"
    assert not (c := _cycle(top)), ' -> '.join(c)
    upward = sorted(f"{m} ({_layer(m)}) imports {t} ({_layer(t)})" for m, ts in top.items() for t in ts if _layer(t) > _layer(m))
    assert not upward, '\n'.join(upward)


def test_the_import_checks_catch_what_they_look_for(tmp_path):
    "A cycle, an upward import and a cycle-dodging import inside a function are each found"
    assert _cycle({'a': {'b'}, 'b': {'c'}, 'c': {'a'}}) == ['a', 'b', 'c', 'a'] and not _cycle({'a': {'b'}, 'b': set()})
    pkg = tmp_path/'tagparrot'; (pkg/'sub').mkdir(parents=True)
    (pkg/'__init__.py').write_text('__version__ = "0"\n')
    (pkg/'a.py').write_text('from .b import x\nclass K:\n    from . import c\n')
    (pkg/'b.py').write_text('x = 1\ndef dodge():\n    from tagparrot.a import K\n')
    (pkg/'c.py').write_text('')
    (pkg/'sub'/'__init__.py').write_text('')
    (pkg/'sub'/'d.py').write_text('from ..a import K\nfrom .. import __version__\n')
    top, inner = _package_imports(pkg)
    assert top['tagparrot.a'] == {'tagparrot.b', 'tagparrot.c'}   # a class body runs at import: top level
    assert top['tagparrot.sub.d'] == {'tagparrot.a', 'tagparrot'}
    assert inner == {('tagparrot.b', 'dodge'): {'tagparrot.a'}}
    assert _closes_cycle(top, 'tagparrot.b', inner['tagparrot.b', 'dodge']) == ['tagparrot.a', 'tagparrot.b', 'tagparrot.a']
    assert _layer('tagparrot.codeparrot.codeeval') > _layer('tagparrot.core') > _layer('tagparrot')
    assert _layer('tagparrot.evaluation') < _layer('tagparrot.methods') < _layer('tagparrot.runner') < _layer('tagparrot.study')
