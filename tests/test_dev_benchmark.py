"The development benchmark's single-label parts: 100 training issues a class, disjoint parts, halves by class, one draw per seed"
import json, subprocess, sys
from collections import Counter

from tagparrot.core import project_path

sys.path.insert(0, str(project_path('benchmarks')))
from dev_benchmark import SINGLE_LABELS, evaluate_direct, single_label_parts, write_parts  # noqa: E402


def test_single_label_parts_are_balanced_disjoint_and_seeded():
    a, b = single_label_parts(0), single_label_parts(1)
    assert Counter(r['labels'][0] for r in a['train']) == {l: 100 for l in SINGLE_LABELS}
    texts = {k: {(r['title'], r['body']) for r in v} for k, v in a.items()}
    assert not (texts['train'] & texts['valid'] or texts['train'] & texts['test'] or texts['valid'] & texts['test'])
    va, te = (Counter(r['labels'][0] for r in a[k]) for k in ('valid', 'test'))
    assert all(abs(va[l] - te[l]) <= 1 for l in SINGLE_LABELS)  # the rest is halved within each class
    assert all(len(r['labels']) == 1 and r['split'] == k for k, v in a.items() for r in v)
    assert single_label_parts(0)['train'] == a['train'] and b['train'] != a['train']


def test_the_command_line_and_the_direct_path_agree(tmp_path):
    folder = write_parts(0, 'single', tmp_path)
    train = [json.loads(l) for l in (folder/'train.jsonl').read_text().splitlines()]
    assert len(train) == 300 and 'split' not in train[0] and json.loads((folder/'labels.json').read_text())['bug'] == 'bug'
    direct = evaluate_direct(folder, 'naive-bayes', 'single', ('valid',))['valid']['macro_f1']
    out = subprocess.run([sys.executable, str(project_path('benchmarks', 'dev_benchmark.py')), '--method', 'naive-bayes',
                          '--seeds', '0', '--out', str(tmp_path)], capture_output=True, text=True, check=True).stdout
    assert out.splitlines()[-1].startswith(f"macro_f1={direct:.4f} ")  # train + tag as a user runs them = the class fitted here
