#!/usr/bin/env python
"""Store the notebooks executed: run each in place on the `tagparrot` kernel, the way `nbdev_test` runs it, and keep
outputs a reader wants (tables, figures, short logs) without progress-bar noise or huge outputs.

    python scripts/execute_notebooks.py                      # every numbered notebook and the home page
    python scripts/execute_notebooks.py nbs/03_baseline.ipynb nbs/10_study.ipynb
    python scripts/execute_notebooks.py --from-run runs/naive-bayes/ck-default_seed-0_sizes-all.ipynb nbs/03_baseline.ipynb

`--from-run` stores instead the outputs of a study run that papermill already executed (`runs/<method>/...`, the
default preset on the real data): each code cell whose source is unchanged since that run takes the run's outputs,
tidied the same way; a cell changed since keeps none. The study's long runs are not re-done for readers.

As under `nbdev_test`: IN_TEST=1 (experiment notebooks take their `quick` preset), the working folder is nbs/, and
cells marked `#| eval: false`, cells carrying one of settings.ini's `tst_flags` and `nbdev_export()` cells are not
run. Then `nbdev_clean` (which keeps outputs and the `parameters` tag). A failing cell stops the run with the
notebook, cell and error named, and leaves that notebook as it was.
"""
import argparse, os, re, subprocess, sys, time
from pathlib import Path

import nbformat
from nbclient import NotebookClient
from nbclient.exceptions import CellExecutionError
from nbdev.config import get_config
from tqdm import tqdm

from build_docs import directives   # the same reading of `#|` directives as the site's

ROOT = Path(__file__).resolve().parents[1]
NBS = ROOT/'nbs'
KERNELSPEC = {'display_name': 'Python (tagparrot)', 'language': 'python', 'name': 'tagparrot'}
SKIP = 'skip-execution'      # nbclient's tag for cells it must not run
MAX_LINES = 60               # longer text outputs keep their head and tail
MAX_PNG_BYTES = 400_000
WIDGET = 'application/vnd.jupyter.widget-view+json'
PROGRESS = re.compile(r'\d+%\|[^|]*\|'                                 # tqdm: " 45%|████▌     | 9/20 [..]"
                      r'|\[\d+:\d+<|it/s\]|s/it\]'                     # tqdm timings
                      r'|IProgress not found|TqdmWarning|TqdmExperimentalWarning')


def skipped(cell, flags: set[str]) -> bool:
    "Cells nbdev_test does not run"
    if cell.cell_type != 'code': return False
    ds = directives(cell.source)
    keys = {d.split(':')[0].split()[0] for d in ds if d}   # `#| slow`, `#| notest`, ...
    return 'eval: false' in ds or bool(flags & keys) or 'nbdev_export(' in cell.source


def tidy_text(text: str) -> str:
    "Drop progress-bar lines (and carriage-return redraws); keep the head and tail of long text"
    lines = [l.rsplit('\r', 1)[-1] for l in text.split('\n')]
    lines = [l for l in lines if not PROGRESS.search(l)]
    if len(lines) > MAX_LINES:
        cut = len(lines) - MAX_LINES
        lines = lines[:MAX_LINES//2] + [f'... ({cut} lines left out)'] + lines[-MAX_LINES//2:]
    return '\n'.join(lines)


def tidy_outputs(outputs: list, where: str) -> list:
    "Outputs a reader wants: no widgets, no progress bars, no empty streams, text cut to size, figures as PNG"
    out = []
    for o in outputs:
        if o.output_type == 'stream':
            o.text = tidy_text(o.text)
            if not o.text.strip(): continue
        elif o.output_type in ('display_data', 'execute_result'):
            if WIDGET in o.data: continue
            if 'image/png' in o.data:
                for mime in ('image/svg+xml', 'application/pdf'): o.data.pop(mime, None)
                if len(o.data['image/png']) * 3 // 4 > MAX_PNG_BYTES:
                    print(f"  warning: {where}: a {len(o.data['image/png']) * 3 // 4 // 1000} kB figure (lower its dpi)")
            if 'text/plain' in o.data and 'text/html' not in o.data: o.data['text/plain'] = tidy_text(o.data['text/plain'])
            o.pop('execution_count', None)
        out.append(o)
    return out


def execute(path: Path, flags: set[str], timeout: int) -> float:
    "Run one notebook in place; returns the seconds it took"
    nb = nbformat.read(path, as_version=4)
    added = {i for i, c in enumerate(nb.cells) if skipped(c, flags) and SKIP not in c.metadata.get('tags', [])}
    for i in added: nb.cells[i].metadata.setdefault('tags', []).append(SKIP)
    runnable = sum(c.cell_type == 'code' for i, c in enumerate(nb.cells) if i not in added)
    bar = tqdm(total=runnable, desc=path.name, unit='cell', leave=False)
    client = NotebookClient(nb, kernel_name=KERNELSPEC['name'], timeout=timeout, allow_errors=False, store_widget_state=False,
                            resources={'metadata': {'path': str(path.parent)}},
                            on_cell_executed=lambda cell, cell_index, execute_reply: bar.update())
    t = time.time()
    try: client.execute()
    finally: bar.close()
    for i, c in enumerate(nb.cells):
        if i in added:
            c.metadata.tags.remove(SKIP)
            if not c.metadata.tags: del c.metadata['tags']
        if c.cell_type == 'code': c.outputs = tidy_outputs(c.outputs, f'{path.name} cell {i}')
    nb.metadata['kernelspec'] = KERNELSPEC
    nb.metadata.pop('widgets', None)   # progress-bar widgets: their outputs are gone, so is their state
    nbformat.write(nb, path)
    subprocess.run([str(Path(sys.executable).parent/'nbdev_clean'), '--fname', str(path)], check=True, cwd=ROOT)
    return time.time() - t


def graft(path: Path, run: Path) -> int:
    "Give the code cells of `path` the outputs of the executed `run` of the same notebook (same cell id and source); returns how many"
    nb, done = nbformat.read(path, as_version=4), nbformat.read(run, as_version=4)
    ran = {c.get('id'): c for c in done.cells if c.cell_type == 'code'}
    n = 0
    for i, c in enumerate(nb.cells):
        r = ran.get(c.get('id'))
        if c.cell_type != 'code' or r is None or r.source != c.source: continue
        c.outputs = tidy_outputs(r.outputs, f'{path.name} cell {i}'); n += bool(c.outputs)
    nb.metadata['kernelspec'] = KERNELSPEC
    nb.metadata.pop('widgets', None)
    nbformat.write(nb, path)
    subprocess.run([str(Path(sys.executable).parent/'nbdev_clean'), '--fname', str(path)], check=True, cwd=ROOT)
    return n


def main():
    p = argparse.ArgumentParser(description=__doc__.split('\n\n')[0])
    p.add_argument('notebooks', nargs='*', type=Path, help="default: nbs/index.ipynb and every numbered notebook")
    p.add_argument('--timeout', type=int, default=1200, help="seconds one cell may run")
    p.add_argument('--from-run', type=Path, help="an executed study run of the (single) notebook given: graft its outputs")
    a = p.parse_args()
    if a.from_run:
        if len(a.notebooks) != 1: sys.exit("--from-run takes exactly one notebook")
        print(f"{a.notebooks[0]}: {graft(a.notebooks[0].resolve(), a.from_run)} cells with outputs from {a.from_run}")
        return
    paths = [q.resolve() for q in a.notebooks] or [NBS/'index.ipynb', *sorted(NBS.glob('[0-9][0-9]*_*.ipynb'))]
    flags = set(get_config().get('tst_flags', '').split())
    os.environ.update(IN_TEST='1', TQDM_DISABLE='1', HF_DATASETS_DISABLE_PROGRESS_BARS='1', HF_HUB_DISABLE_PROGRESS_BARS='1')
    os.environ.pop('MPLBACKEND', None)   # the kernel's inline backend stores figures as PNG outputs
    before = subprocess.run(['git', 'status', '--porcelain', '--', 'results', 'figures', 'tagparrot'],
                            capture_output=True, text=True, cwd=ROOT).stdout
    total = time.time()
    for i, path in enumerate(paths, 1):
        print(f"[{i}/{len(paths)}] {path.relative_to(ROOT)}", flush=True)
        try: seconds = execute(path, flags, a.timeout)
        except CellExecutionError as e:
            sys.exit(f"FAILED: {path.relative_to(ROOT)} (left as it was)\n{str(e)[-3000:]}")
        print(f"  {seconds:.0f} s, {path.stat().st_size / 1000:.0f} kB", flush=True)
    after = subprocess.run(['git', 'status', '--porcelain', '--', 'results', 'figures', 'tagparrot'],
                           capture_output=True, text=True, cwd=ROOT).stdout
    if after != before: print(f"note: running the notebooks changed tracked files:\n{after}")
    print(f"done: {len(paths)} notebook(s) in {time.time() - total:.0f} s")


if __name__ == '__main__':
    main()
