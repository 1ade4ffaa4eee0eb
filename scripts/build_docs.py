#!/usr/bin/env python
"""Build the documentation site from the notebooks into _docs/ (offline).

Quarto, which `nbdev_docs` drives, cannot be installed from the package registries (the `quarto-cli` package on
PyPI is a source distribution that downloads its binaries from GitHub when it is built), so the site is rendered by
Sphinx with myst-nb, which reads the notebooks with their stored outputs and never executes them. The notebooks
are staged in _proc/src first: nbdev's cell directives become myst-nb's cell tags (`#| hide` cells are left out,
`#| echo: false` hides the code), the home page gets the sidebar, and api.md documents every exported module.
"""
import argparse, fnmatch, json, re, shutil, subprocess, sys, time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
NBS, OUT, CONF = ROOT/'nbs', ROOT/'_docs', ROOT/'docs'
# scratch: staged sources, and Sphinx's output (myst-nb writes its image folder beside the output folder)
SCRATCH = ROOT/'_proc'
STAGE, HTML = SCRATCH/'src', SCRATCH/'html'

# The sidebar, in reading order: each notebook goes to the first section one of whose patterns matches its name
SECTIONS = [('Foundations', ['0[0-2]*_*']),
            ('The methods', ['0[3-9]*_*']),
            ('The study', ['10*_*']),
            ('The code model', ['1[1-4]*_*']),
            ('The last chapter', ['1[5-7]*_*']),
            ('The tools', ['18*_*', '20_*']),
            ('The package', ['19*_*', '21_*']),
            ('Reference', ['api'])]
# a link to a numbered notebook, as the notebooks write them: [text](12_codetok.ipynb) or [text](12_codetok.ipynb#part)
NOTEBOOK_LINK = re.compile(r'\[([^\]]+)\]\((\d\d[a-z]?_\w+)\.ipynb(#[^)]*)?\)')

DIRECTIVE = re.compile(r'^\s*#\s*\|\s*(.*?)\s*$')
TAGS = {'echo: false': 'remove-input', 'output: false': 'remove-output', 'include: false': 'remove-cell'}


def directives(source: str) -> list[str]:
    "nbdev/Quarto cell directives (`#| export`, `#| echo: false`, ...) at the top of a code cell"
    out = []
    for line in source.splitlines():
        m = DIRECTIVE.match(line)
        if not m: break
        out.append(re.sub(r'\s+', ' ', m.group(1)).lower())
    return out


def stage_cell(cell: dict) -> dict | None:
    "The cell as the site shows it: None when it is left out, directives as myst-nb tags, directive lines dropped"
    if cell['cell_type'] != 'code': return cell
    src = ''.join(cell['source'])
    ds = directives(src)
    if any(d.split()[0] in ('hide', 'default_exp') for d in ds if d) or 'nbdev_export(' in src: return None
    tags = cell.setdefault('metadata', {}).setdefault('tags', [])
    tags += [TAGS[d] for d in ds if d in TAGS]
    cell['source'] = '\n'.join(src.splitlines()[len(ds):])
    return cell


def section_of(name: str) -> str | None:
    return next((caption for caption, pats in SECTIONS if any(fnmatch.fnmatch(name, p) for p in pats)), None)


def sidebar(docs: list[str]) -> str:
    "Hidden toctrees, one per section, that Sphinx turns into the sidebar"
    out = []
    for caption, _ in SECTIONS:
        members = [d for d in docs if section_of(d) == caption]
        if members: out.append(f"```{{toctree}}\n:hidden:\n:caption: {caption}\n\n" + '\n'.join(members) + "\n```")
    rest = [d for d in docs if section_of(d) is None]
    if rest: out.append("```{toctree}\n:hidden:\n:caption: More\n\n" + '\n'.join(rest) + "\n```")
    return '\n\n'.join(out)


def title(nb: Path) -> str:
    "A notebook's title: the first heading of its first cell"
    first = ''.join(json.loads(nb.read_text())['cells'][0]['source'])
    m = re.match(r'# (.+)', first)
    return m.group(1).strip() if m else nb.stem


def api_page() -> str:
    "One section per exported module: the notebook it comes from, then its public names (Sphinx autodoc)"
    parts = ["# API reference\n\nEvery module of the `tagparrot` package is exported from a notebook; the notebook "
             "tells why each piece exists and shows it working. Below: each module's public functions and classes."]
    for py in sorted((ROOT/'tagparrot').rglob('[!_]*.py')):  # the sub-packages' modules too
        name = '.'.join(py.relative_to(ROOT).with_suffix('').parts)
        m = re.search(r'File to edit: (?:\.\./)+nbs/(\S+)\.ipynb', py.read_text()[:400])
        src = f"Exported from [{title(NBS/(m.group(1) + '.ipynb'))}]({m.group(1)}.ipynb).\n\n" if m else ''
        parts.append(f"## {name}\n\n{src}```{{eval-rst}}\n.. automodule:: {name}\n"
                     f"   :members:\n   :no-index:\n```")
    return '\n\n'.join(parts)


def unlink_missing(text: str, present: set[str], missing: set[str]) -> str:
    "Links to notebooks not in this checkout (a branch that adds them is not merged yet) as plain text, noted in `missing`"
    def keep(m):
        if m.group(2) in present: return m.group(0)
        missing.add(m.group(2))
        return m.group(1)
    return NOTEBOOK_LINK.sub(keep, text)


def stage():
    "Copy the notebooks to _proc/ as the site shows them, the home page with the sidebar, and the API page"
    shutil.rmtree(SCRATCH, ignore_errors=True)
    STAGE.mkdir(parents=True)
    present = {p.stem for p in NBS.glob('*.ipynb')}
    pages = [p.stem for p in sorted(NBS.glob('*.ipynb')) if p.stem != 'index'] + ['api']
    missing = set()
    for nb_path in sorted(NBS.glob('*.ipynb')):
        nb = json.loads(nb_path.read_text())
        nb['cells'] = [c for c in map(stage_cell, nb['cells']) if c is not None]
        for c in nb['cells']:
            if c['cell_type'] == 'markdown': c['source'] = unlink_missing(''.join(c['source']), present, missing)
        if nb_path.stem == 'index': nb['cells'].append({'cell_type': 'markdown', 'id': 'sidebar', 'metadata': {}, 'source': sidebar(pages)})
        (STAGE/nb_path.name).write_text(json.dumps(nb))
    if missing: print(f"docs: links to notebooks not in this checkout shown as text: {', '.join(sorted(missing))}")
    (STAGE/'api.md').write_text(api_page())
    # notebooks show the project's figures as ../figures/NAME.png: the same path from the staged copies
    shutil.copytree(ROOT/'figures', SCRATCH/'figures', ignore=shutil.ignore_patterns('*.svg'))


def build(quiet: bool = True) -> Path:
    "Stage the notebooks and render the site into _docs/; returns the home page"
    t = time.time()
    stage()
    cmd = [sys.executable, '-m', 'sphinx', '-b', 'html', '-c', str(CONF), '-d', str(SCRATCH/'doctrees'), str(STAGE), str(HTML)]
    if quiet: cmd.insert(3, '-q')
    subprocess.run(cmd, check=True, cwd=ROOT)
    shutil.rmtree(OUT, ignore_errors=True)
    shutil.move(HTML, OUT)
    print(f"docs: {OUT/'index.html'} ({time.time() - t:.0f} s)")
    return OUT/'index.html'


if __name__ == '__main__':
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument('--verbose', action='store_true', help="print Sphinx's progress")
    build(quiet=not p.parse_args().verbose)
