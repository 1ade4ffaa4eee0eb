"""The documentation site: it builds, no internal link or image in it is broken, and a real browser renders it.

The site is built once per test session (about a minute and a half on the shared 2-core machine), or reused when
_docs/ is newer than everything it is built from."""
import http.server, json, shutil, subprocess, sys, threading
from functools import partial
from pathlib import Path
from urllib.parse import unquote, urlsplit

import pytest
from bs4 import BeautifulSoup
from PIL import Image

ROOT = Path(__file__).resolve().parents[1]
SITE = ROOT/'_docs'
CHROMIUM = shutil.which('chromium')
BROWSER_FLAGS = ['--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking',
                 '--disable-component-update', '--disable-sync', '--no-first-run']

slow = pytest.mark.slow  # the site is built once (Sphinx over every notebook) and a real browser renders it
sys.path.insert(0, str(ROOT/'scripts'))
import build_docs  # noqa: E402  (scripts/ is not a package)


def test_home_page_links_every_notebook_in_reading_order():
    "index.ipynb's reading order names every notebook, each once"
    home = ''.join(''.join(c['source']) for c in json.loads((ROOT/'nbs'/'index.ipynb').read_text())['cells'])
    linked = [m.group(2) for m in build_docs.NOTEBOOK_LINK.finditer(home)]
    notebooks = {p.stem for p in (ROOT/'nbs').glob('*.ipynb')} - {'index'}
    assert notebooks <= set(linked), notebooks - set(linked)
    assert len(linked) == len(set(linked)), [n for n in linked if linked.count(n) > 1]


def test_every_notebook_has_its_place_in_the_sidebar():
    places = {p.stem: build_docs.section_of(p.stem) for p in (ROOT/'nbs').glob('*.ipynb') if p.stem != 'index'}
    assert all(places.values()), [n for n, s in places.items() if s is None]
    assert places['18_tagger'] == places['20_cli'] == 'The tools' and places['10b_cluster'] == 'The study'
    assert build_docs.unlink_missing('[a](09c_runner.ipynb), [b](00_core.ipynb#x)', {'00_core'}, missing := set()) == \
        'a, [b](00_core.ipynb#x)' and missing == {'09c_runner'}


def _inputs():
    for pattern in ('nbs/*.ipynb', 'tagparrot/**/*.py', 'docs/*', 'scripts/build_docs.py', 'figures/*.png'):
        yield from ROOT.glob(pattern)


@pytest.fixture(scope='session')
def site() -> Path:
    home = SITE/'index.html'
    if not home.exists() or max(p.stat().st_mtime for p in _inputs()) > home.stat().st_mtime:
        subprocess.run([sys.executable, 'scripts/build_docs.py'], check=True, cwd=ROOT)
    return SITE


def _page(html: Path) -> tuple[list, set]:
    "(attribute value, file it points to, fragment) for every link, image, script and stylesheet inside the site; the page's ids"
    soup, links = BeautifulSoup(html.read_text(), 'html.parser'), []
    for tag, attr in (('a', 'href'), ('img', 'src'), ('link', 'href'), ('script', 'src'), ('source', 'src')):
        for el in soup.find_all(tag):
            url = el.get(attr)
            if not url: continue
            parts = urlsplit(url)
            if parts.scheme or parts.netloc: continue   # external: not this site's to keep
            target = (html.parent/unquote(parts.path)).resolve() if parts.path else html
            links.append((url, target, parts.fragment))
    return links, {el['id'] for el in soup.find_all(id=True)}


@slow
def test_site_has_every_notebook(site):
    pages = {p.stem for p in site.glob('*.html')}
    notebooks = {p.stem for p in (ROOT/'nbs').glob('*.ipynb')}
    assert notebooks <= pages, notebooks - pages
    assert 'api' in pages


@slow
def test_no_broken_internal_link_or_image(site):
    pages = {html.resolve(): _page(html) for html in sorted(site.glob('*.html'))}  # _static/ holds templates, not pages
    broken = []
    for html, (links, _) in pages.items():
        for url, target, fragment in links:
            if not target.is_relative_to(site.resolve()) or not target.exists():
                broken.append(f"{html.name}: {url} (no such file)")
            elif fragment and target in pages and fragment not in pages[target][1]:
                broken.append(f"{html.name}: {url} (no such anchor)")
    assert not broken, '\n'.join(broken)


@slow
def test_links_between_notebooks_point_into_the_site(site):
    "A link from the home page to a notebook lands on that notebook's page, not on the .ipynb file"
    hrefs = {url for url, _, _ in _page(site/'index.html')[0]}
    assert '03_baseline.html' in hrefs and not any(h.endswith('.ipynb') for h in hrefs)


class _Recorder(http.server.SimpleHTTPRequestHandler):
    "Serves the site and records what the browser asked for, with the status it got"
    def log_message(self, *args): pass
    def log_request(self, code='-', size='-'): self.server.requests.append((unquote(urlsplit(self.path).path), int(code)))


@pytest.fixture(scope='module')
def server(site):
    srv = http.server.ThreadingHTTPServer(('127.0.0.1', 0), partial(_Recorder, directory=str(site)))
    srv.requests = []
    threading.Thread(target=srv.serve_forever, daemon=True).start()
    yield srv
    srv.shutdown()


def _chromium(tmp_path, *args) -> subprocess.CompletedProcess:
    profile = tmp_path/f'profile-{len(list(tmp_path.iterdir()))}'  # a fresh profile for every run
    cmd = [CHROMIUM, *BROWSER_FLAGS, f'--user-data-dir={profile}', '--window-size=1280,1000', *args]
    return subprocess.run(cmd, capture_output=True, text=True, timeout=90)


needs_chromium = pytest.mark.skipif(CHROMIUM is None, reason="chromium is not installed (bash scripts/run.sh installs it as root)")


@needs_chromium
@pytest.mark.parametrize('page,title', [('index.html', 'tagparrot'), ('03_baseline.html', 'Naive Bayes baseline'),
                                        ('10_study.html', 'The study')])
@slow
def test_browser_renders_page(server, tmp_path, page, title):
    server.requests.clear()
    r = _chromium(tmp_path, '--dump-dom', f'http://127.0.0.1:{server.server_port}/{page}')
    assert r.returncode == 0, r.stderr[-2000:]
    dom = BeautifulSoup(r.stdout, 'html.parser')
    assert dom.title and dom.title.text.startswith(title), dom.title
    assert dom.find('h1') and title in dom.find('h1').text
    assert dom.select('nav.bd-links a[href="api.html"]'), "the sidebar lists the pages"
    failed = [(path, code) for path, code in server.requests if code >= 400 and path != '/favicon.ico']
    assert not failed, failed
    if page == 'index.html': assert ('/_images/study.png', 200) in server.requests, "the results figure was loaded"


@slow
@needs_chromium
def test_browser_screenshot_of_home_page_is_not_blank(server, tmp_path):
    png = tmp_path/'home.png'
    r = _chromium(tmp_path, f'--screenshot={png}', f'http://127.0.0.1:{server.server_port}/index.html')
    assert r.returncode == 0 and png.exists(), r.stderr[-2000:]
    img = Image.open(png).convert('RGB')
    assert img.size == (1280, 1000)
    colors = img.getcolors(maxcolors=1 << 20)
    assert len(colors) > 50, "a rendered page with text and a figure has many colours"
    assert max(n for n, _ in colors) < 0.95 * img.size[0] * img.size[1], "the page is mostly one colour"
