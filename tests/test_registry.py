"The method registry: every entry is complete, and a method added by its entry alone runs in the study, on the cluster and in the tagger."
import importlib.util, inspect, json
from pathlib import Path

import numpy as np
import pytest

from tagparrot.evaluation import ORIGINS, RULE_KINDS, MethodSpec, TaggingMethod
from tagparrot.methods import METHODS, methods_of, study_params

ROOT = Path(__file__).resolve().parents[1]


def parameters_cell(notebook: Path) -> str:
    "The source of a notebook's cell tagged `parameters`"
    cells = json.loads(notebook.read_text())['cells']
    return next(''.join(c['source']) for c in cells if 'parameters' in c.get('metadata', {}).get('tags', []))


@pytest.mark.parametrize('name', list(METHODS))
def test_every_entry_is_complete(name):
    "Key = class name, the notebook exists and runs the method, the study's settings are ones the class takes"
    spec = METHODS[name]
    cls = spec.cls
    assert cls.name == name
    notebook = ROOT/'nbs'/spec.notebook
    assert notebook.exists(), f'{spec.notebook} is not in nbs/'
    assert repr(name) in parameters_cell(notebook), f'{spec.notebook} does not list {name} among its methods'
    assert spec.origin in ORIGINS and spec.reference in RULE_KINDS
    for preset in ('quick', 'default', 'full'):
        inspect.signature(cls).bind(['a', 'b'], **study_params(name, preset, seed=0))  # raises on a setting the class lacks
# the save/load round trip of every entry is tests/test_tagger.py's (its last round trip covers any method not tried above it)


def test_derived_lists_follow_the_registry():
    "What goal_check, the cluster and the grid used to keep as lists now comes from the entries"
    from tagparrot.cluster import cell_resources
    assert set(methods_of('reference')) | set(methods_of('beyond')) == set(METHODS)
    assert {m for m in METHODS if cell_resources(m, 'full')} == {m for m, s in METHODS.items() if s.gpu}
    assert not any(cell_resources(m, 'default') for m in METHODS)


class Keyword(TaggingMethod):
    "A toy method: a label scores the share of an issue's words that its training issues used"
    name = 'keyword'
    def __init__(self, labels, preset: str = 'default', scale: float = 1.0):
        super().__init__(labels, preset=preset, scale=scale)
        self.preset, self.scale = preset, scale

    def _bag(self, texts) -> np.ndarray:
        X = np.zeros((len(texts), len(self.vocab_)))
        for r, t in enumerate(texts):
            for w in set(t.lower().split()):
                if w in self.vocab_: X[r, self.vocab_[w]] = 1
        return X

    def fit(self, train, valid=None, unsup=None):
        words = sorted({w for t in train['text'] for w in t.lower().split()})
        self.vocab_ = {w: i for i, w in enumerate(words)}
        Y = np.asarray(train['label_ids'], dtype=float).reshape(-1, len(self.labels))
        self.weights_ = self._bag(list(train['text'])).T @ Y / np.maximum(Y.sum(0), 1)
        return self

    def predict_proba(self, texts) -> np.ndarray:
        s = self.scale * self._bag(list(texts)) @ self.weights_
        return s / (1 + s)


@pytest.fixture
def keyword(monkeypatch, tmp_path):
    "The toy registered by one entry (beyond the reference study, a GPU under `full`, one study setting) and its notebook"
    nbs = tmp_path/'nbs'
    nbs.mkdir()
    (nbs/'99_keyword.ipynb').write_text(json.dumps({'cells': [], 'metadata': {}, 'nbformat': 4, 'nbformat_minor': 5}))
    monkeypatch.setitem(METHODS, 'keyword', MethodSpec(Keyword, '99_keyword.ipynb', origin='beyond', gpu=True,
                                                       study_params={'scale': 2.0}))
    return nbs


def run_cells_script():
    "scripts/run_cells.py as a module: its worker runs one study cell in this process"
    spec = importlib.util.spec_from_file_location('run_cells', ROOT/'scripts'/'run_cells.py')
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    return mod


def test_a_method_added_by_its_entry_runs_in_the_study(keyword, tmp_path):
    "A study cell of the toy (the kernel-free runner) writes rows with its registered settings; resume and goal_check see them"
    from tagparrot.evaluation import read_results
    from tagparrot.study import Cell, cell_done, goal_check
    run_cells, out = run_cells_script(), tmp_path/'r.csv'
    for method in ('keyword', 'naive-bayes'):
        assert run_cells.main(['--worker', method, '0', '--preset', 'quick', '--sizes', '8', '32', '--results', str(out)]) == 0
    rows = read_results(out)
    toy = rows[rows.method == 'keyword']
    assert len(toy) == 4 and set(toy.params) == {json.dumps({'preset': 'quick', 'scale': 2.0}, sort_keys=True)}
    assert cell_done(Cell('keyword', 0, (8, 32)), rows, toy.data.iloc[0], budget='quick')
    assert run_cells.main(['--worker', 'keyword', '0', '--preset', 'quick', '--sizes', '8', '32', '--results', str(out)]) == 0
    assert len(read_results(out)) == len(rows)  # a rerun finds the cell done
    g = goal_check(rows, sizes=(8, 32))
    assert list(g.best_beyond) == ['keyword', 'keyword'] and list(g.best_reference) == ['naive-bayes', 'naive-bayes']


def test_a_method_added_by_its_entry_is_planned_for_the_cluster(keyword, tmp_path):
    "The grid plans the toy's cell from its notebook; under `full` its cluster task asks for a GPU, and a cluster without one says so"
    from tagparrot.cluster import DaskPool, cell_resources
    from tagparrot.study import Cell, cell_parameters, plan_grid, study_data
    cells, skipped = plan_grid('quick', methods=['keyword'], nbs=keyword)
    assert cells == [Cell('keyword', 0, (8, 32))] and skipped == {}
    assert 'keyword' in {c.method for c in plan_grid('default', nbs=keyword)[0]}  # every registered method by default
    assert cell_resources('keyword', 'full') == {'GPU': 1} and cell_resources('keyword', 'quick') == {}
    params = cell_parameters(cells[0], 'full', tmp_path/'r.csv', tmp_path/'figures', study_data())
    assert params['methods'] == ['keyword']
    pool = DaskPool(preset='full', jobs=1)
    try: rec = pool.submit(None, cells[0], params, tmp_path/'runs').result(timeout=60)
    finally: pool.shutdown()
    assert rec['status'] == 'failed' and "{'GPU': 1}" in rec['error']


def test_a_method_added_by_its_entry_trains_saves_and_loads_as_a_tagger(keyword, tmp_path):
    "train_tagger fits the toy by its name; the saved folder loads back and tags identically"
    from tagparrot.tagger import load_tagger, train_tagger
    from test_tagger import issues
    t = train_tagger(issues(24), method='keyword', settings={'scale': 3.0}, folds=0)
    loaded = load_tagger(t.save(tmp_path/'kw'))
    texts = [f"{x}\n\n{b}" for x, b in zip(issues(6, seed=3).title, issues(6, seed=3).body)]
    assert loaded.manifest['method'] == 'keyword' and loaded.method.scale == 3.0
    assert np.array_equal(loaded.predict_proba(texts), t.predict_proba(texts)) and loaded.predict(texts) == t.predict(texts)


def test_committed_rows_carry_the_settings_the_registry_gives():
    "A study cell rebuilt from the registry finds the committed rows: same settings, so the same row identity"
    from tagparrot.evaluation import read_results
    rows = read_results(ROOT/'results'/'results.csv')
    assert len(rows)
    for r in rows.to_dict('records'):
        preset = json.loads(r['params']).get('preset', 'default')
        assert r['params'] == json.dumps(study_params(r['method'], preset, seed=int(r['seed'])), sort_keys=True, default=str), r
