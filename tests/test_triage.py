"""`tagparrot triage` and `report` against a local HTTP server that answers the GitHub REST endpoints triage calls,
shaped as GitHub's documentation shows them: issues with paging, an issue's events, add labels, comments, a rate limit,
a 502 and a 404. Also: the action and the example workflows parse, and every step runs a command that exists."""
import http.server, json, re, shlex, shutil, threading, time
from pathlib import Path
from urllib.parse import parse_qs, urlencode, urlparse

import pandas as pd
import pytest
import yaml  # PyYAML comes with datasets and huggingface_hub

from tagparrot.cli import COMMANDS, main
from tagparrot.tagger import train_tagger
from tagparrot.triage import MARKER, report_cli, triage_cli

ROOT = Path(__file__).resolve().parents[1]
TOKEN = 'ghs_0123456789abcdefNEVERSHOWN'
TOPICS = {'crash': ('bug', 'traceback error fails'), 'docs': ('documentation', 'typo page link'),
          'feature': ('enhancement', 'please add support')}
NOT_FOUND = {'message': 'Not Found', 'documentation_url': 'https://docs.github.com/rest'}


def gh_issue(n, title, body, labels=(), login='ann', kind='User', pr=False):
    "An issue object as the REST API returns it: the fields triage reads and a few around them"
    url = f'https://api.github.com/repos/o/r/issues/{n}'
    return {'url': url, 'id': 1000 + n, 'node_id': f'I_{n}', 'number': n, 'title': title, 'body': body, 'state': 'open',
            'labels': [{'id': hash(l) % 10**6, 'name': l, 'color': 'ededed', 'default': False} for l in labels],
            'user': {'login': login, 'id': 7, 'type': kind}, 'comments': 0, 'author_association': 'NONE',
            'created_at': f'2026-01-{n:02d}T09:00:00Z', 'updated_at': f'2026-01-{n:02d}T09:00:00Z',
            **({'pull_request': {'url': url.replace('issues', 'pulls')}} if pr else {})}


def label_event(name, kind='labeled', login='maintainer'):
    return {'id': int(time.time() * 1e6) % 10**9, 'event': kind, 'actor': {'login': login, 'type': 'User'},
            'label': {'name': name, 'color': 'ededed'}, 'created_at': '2026-01-20T10:00:00Z'}


class Handler(http.server.BaseHTTPRequestHandler):
    "Routes a request to the in-memory repository `o/r` of its `FakeGitHub` server"
    def log_message(self, *a): pass

    def send(self, status, body, headers=None):
        data = json.dumps(body).encode()
        self.send_response(status)
        for k, v in {'Content-Type': 'application/json; charset=utf-8', 'Content-Length': str(len(data)), **(headers or {})}.items():
            self.send_header(k, v)
        self.end_headers()
        self.wfile.write(data)

    def paged(self, items, url):
        "One page of `items`, with GitHub's `Link` header naming the next and last pages"
        q = {k: v[0] for k, v in parse_qs(url.query).items()}
        size, page = self.server.page_size, int(q.get('page', 1))
        last = max(1, -(-len(items) // size))
        link = lambda p: f'<{self.server.root}{url.path}?{urlencode(q | {"page": p})}>'
        links = [f'{link(page + 1)}; rel="next"', f'{link(last)}; rel="last"'] if page < last else []
        return self.send(200, items[(page - 1) * size:page * size], {'Link': ', '.join(links)} if links else {})

    def handle_call(self, method):
        s, url = self.server, urlparse(self.path)
        body = json.loads(self.rfile.read(int(self.headers.get('Content-Length') or 0)) or b'null')
        s.calls.append((method, url.path, self.headers.get('Authorization')))
        for i, (m, pattern, status, headers, payload) in enumerate(s.fail):  # each planned failure answers once
            if m == method and re.search(pattern, f'{url.path}?{url.query}'):
                del s.fail[i]
                return self.send(status, payload, {k: (v() if callable(v) else v) for k, v in headers.items()})
        if method != 'GET' and self.headers.get('Authorization') != f'Bearer {TOKEN}':
            return self.send(401, {'message': 'Requires authentication'})
        if c := re.fullmatch(r'/repos/o/r/issues/comments/(\d+)', url.path):
            comment = next(x for cs in s.comments.values() for x in cs if x['id'] == int(c[1]))
            s.writes.append((method, url.path, body)); comment['body'] = body['body']
            return self.send(200, comment)
        m = re.fullmatch(r'/repos/o/r/issues(?:/(\d+))?(/labels|/events|/comments)?', url.path)
        if not m or (m[1] and int(m[1]) not in s.issues): return self.send(404, NOT_FOUND)
        n, part = int(m[1] or 0), m[2]
        if method == 'GET' and not n: return self.paged([i for i in s.issues.values() if i['state'] == 'open'], url)
        if method == 'GET' and not part: return self.send(200, s.issues[n])
        if method == 'GET' and part == '/events': return self.paged(s.events.setdefault(n, []), url)
        if method == 'GET' and part == '/comments': return self.paged(s.comments.setdefault(n, []), url)
        s.writes.append((method, url.path, body))
        if method == 'POST' and part == '/labels':
            have = s.issues[n]['labels']
            for name in body['labels']:
                if name not in [l['name'] for l in have]:
                    have.append({'id': 1, 'name': name, 'color': 'ededed', 'default': False})
                    s.events.setdefault(n, []).append(label_event(name, login='github-actions[bot]'))
            return self.send(200, have)
        if method == 'POST' and part == '/comments':
            comment = {'id': 500 + sum(map(len, s.comments.values())), 'body': body['body'], 'user': {'login': 'github-actions[bot]'}}
            s.comments.setdefault(n, []).append(comment)
            return self.send(201, comment)
        return self.send(404, NOT_FOUND)

    def do_GET(self): self.handle_call('GET')
    def do_POST(self): self.handle_call('POST')
    def do_PATCH(self): self.handle_call('PATCH')
    def do_PUT(self): self.handle_call('PUT')


class FakeGitHub(http.server.ThreadingHTTPServer):
    "A repository `o/r` in memory; `calls` records every request, `writes` every change; `fail` plans one-off answers"
    def __init__(self, issues, page_size=2):
        super().__init__(('127.0.0.1', 0), Handler)
        self.issues, self.page_size = {i['number']: i for i in issues}, page_size
        self.events, self.comments, self.calls, self.writes, self.fail = {}, {}, [], [], []
        self.root = f'http://127.0.0.1:{self.server_address[1]}'


def repository():
    return [gh_issue(1, 'crash on load', 'traceback error fails'), gh_issue(2, 'docs typo', 'typo on a page, broken link'),
            gh_issue(3, 'feature: parquet', 'please add support for it'), gh_issue(4, 'hello', 'thanks for the library'),
            gh_issue(5, 'crash fix', 'fixes the traceback', pr=True), gh_issue(6, 'crash again', 'traceback', labels=['bug']),
            gh_issue(7, 'crash bump', 'traceback error', login='dependabot[bot]', kind='Bot')]


@pytest.fixture
def github():
    server = FakeGitHub(repository())
    threading.Thread(target=server.serve_forever, daemon=True).start()
    yield server
    server.shutdown(); server.server_close()


@pytest.fixture(scope='module')
def tagger_dir(tmp_path_factory):
    "A Naive Bayes tagger with precision cuts at 0.9, trained on issues whose titles name their topic"
    toy = pd.DataFrame([{'title': f'{t} report {i}', 'body': w, 'labels': l} for i in range(20) for t, (l, w) in TOPICS.items()])
    return train_tagger(toy, method='naive-bayes', precision=0.9).save(tmp_path_factory.mktemp('t')/'tagger')


@pytest.fixture
def env(monkeypatch, tmp_path):
    monkeypatch.setenv('GITHUB_TOKEN', TOKEN)
    monkeypatch.setenv('GITHUB_STEP_SUMMARY', str(tmp_path/'summary.md'))
    return tmp_path


def triage(args, github, capsys, sleeps=None):
    "Run `tagparrot triage` in-process with a clock that only records; its JSON lines by issue number"
    assert triage_cli(['--api', github.root, *args], sleep=(sleeps if sleeps is not None else []).append) == 0
    return {p['number']: p for p in map(json.loads, capsys.readouterr().out.splitlines())}


def test_dry_run_says_what_it_would_do_and_writes_nothing(github, tagger_dir, env, capsys):
    plans = triage(['--model', str(tagger_dir), '--repo', 'o/r', '--unsure-label', 'needs-triage'], github, capsys)
    assert sorted(plans) == [1, 2, 3, 4, 6, 7]  # the pull request is not an issue
    assert {n: (p['action'], p['labels']) for n, p in plans.items()} == {
        1: ('add', ['bug']), 2: ('add', ['documentation']), 3: ('add', ['enhancement']), 4: ('unsure', ['needs-triage']),
        6: ('skip', []), 7: ('skip', [])}
    assert plans[6]['why'] == 'already labeled bug' and 'dependabot[bot]' in plans[7]['why']
    assert not any(p['applied'] for p in plans.values()) and github.writes == []
    assert [m for m, *_ in github.calls] == ['GET'] * len(github.calls)
    summary = (env/'summary.md').read_text()
    assert 'dry run' in summary and '| #1 | add | `bug` |' in summary


def test_apply_adds_exactly_the_expected_labels_once(github, tagger_dir, env, capsys):
    args = ['--model', str(tagger_dir), '--repo', 'o/r', '--apply']
    first = triage(args, github, capsys)
    assert sorted((path, tuple(body['labels'])) for _, path, body in github.writes) == [
        ('/repos/o/r/issues/1/labels', ('bug',)), ('/repos/o/r/issues/2/labels', ('documentation',)),
        ('/repos/o/r/issues/3/labels', ('enhancement',))]
    assert all(m == 'POST' for m, *_ in github.writes) and first[1]['applied']
    assert [l['name'] for l in github.issues[6]['labels']] == ['bug']  # what a person set stays as it was
    github.writes.clear()
    second = triage(args, github, capsys)
    assert github.writes == [] and {second[n]['why'] for n in (1, 2, 3)} == {
        'already labeled bug', 'already labeled documentation', 'already labeled enhancement'}


def test_a_label_a_person_removed_is_never_added_back(github, tagger_dir, env, capsys):
    github.events[1] = [label_event('bug', login='github-actions[bot]'), label_event('bug', 'unlabeled')]
    plans = triage(['--model', str(tagger_dir), '--repo', 'o/r', '--issues', '1', '--apply'], github, capsys)
    assert plans[1]['action'] == 'unsure' and plans[1]['why'] == 'a person removed bug'
    assert github.writes == [] and github.issues[1]['labels'] == []


def test_rate_limit_and_502_are_waited_out_and_paging_goes_on(github, tagger_dir, env, capsys):
    reset = lambda: str(int(time.time()) + 30)
    github.fail = [('GET', r'^/repos/o/r/issues\?state=open&per_page=100$', 502, {}, {'message': 'Server Error'}),
                   ('GET', r'^/repos/o/r/issues\?.*&page=2$', 403, {'X-RateLimit-Limit': '60', 'X-RateLimit-Remaining': '0',
                                                       'X-RateLimit-Reset': reset, 'X-RateLimit-Resource': 'core'},
                    {'message': 'API rate limit exceeded for 127.0.0.1.', 'documentation_url': 'https://docs.github.com/rest'})]
    sleeps = []
    plans = triage(['--model', str(tagger_dir), '--repo', 'o/r'], github, capsys, sleeps)
    assert sorted(plans) == [1, 2, 3, 4, 6, 7]
    assert sleeps[0] == 1 and 25 < sleeps[1] <= 31  # backoff after the 502; then until the reset, not a real sleep
    pages = [p for m, p, _ in github.calls if p == '/repos/o/r/issues']
    assert len(pages) == 4 + 2  # four pages of two; page 1 and page 2 were each asked again once


def test_event_file_and_one_comment_edited_in_place(github, tagger_dir, env, capsys):
    event = env/'event.json'
    event.write_text(json.dumps({'action': 'opened', 'issue': repository()[0], 'repository': {'full_name': 'o/r'},
                                 'sender': {'login': 'ann'}}))
    args = ['--model', str(tagger_dir), '--event', str(event), '--apply', '--comment']
    assert triage(args, github, capsys)[1]['labels'] == ['bug']
    assert len(github.comments[1]) == 1 and github.comments[1][0]['body'].startswith(MARKER)
    github.issues[1]['labels'] = []  # a person takes the label off
    github.events[1].append(label_event('bug', 'unlabeled'))
    assert triage(args, github, capsys)[1]['action'] == 'unsure'
    assert len(github.comments[1]) == 1 and 'Added nothing (a person removed bug)' in github.comments[1][0]['body']
    assert [m for m, p, _ in github.writes if 'comments' in p] == ['POST', 'PATCH']


def test_the_token_appears_nowhere(github, tagger_dir, env, capsys):
    triage(['--model', str(tagger_dir), '--repo', 'o/r', '--apply', '--comment'], github, capsys)
    assert main(['triage', '--model', str(tagger_dir), '--repo', 'o/nope', '--api', github.root]) == 1
    out, err = capsys.readouterr()
    assert all(auth == f'Bearer {TOKEN}' for *_, auth in github.calls)  # it was sent, as a header only
    seen = [out, err] + [p.read_text(errors='replace') for p in env.rglob('*') if p.is_file()]
    seen += [p.read_text(errors='replace') for p in tagger_dir.rglob('*') if p.is_file() and p.suffix in ('.json', '.md')]
    assert not any(TOKEN in s or TOKEN[4:20] in s for s in seen)


@pytest.mark.parametrize('case', ['malformed event', 'unknown repository', 'not a tagger', 'apply without a token'])
def test_bad_input_gets_one_line_and_nothing_is_written(case, github, tagger_dir, env, capsys, monkeypatch):
    (env/'bad.json').write_text('{"action": "opened", "issue": ')
    args = {'malformed event': ['--event', str(env/'bad.json')], 'unknown repository': ['--repo', 'o/nope'],
            'not a tagger': ['--repo', 'o/r'], 'apply without a token': ['--repo', 'o/r', '--apply']}[case]
    model = str(env) if case == 'not a tagger' else str(tagger_dir)
    if case == 'apply without a token': monkeypatch.delenv('GITHUB_TOKEN')
    assert main(['triage', '--model', model, '--api', github.root, *args]) == 1
    out, err = capsys.readouterr()
    assert out == '' and len(err.strip().splitlines()) == 1 and err.startswith('tagparrot: error: ')
    assert {'malformed event': 'not a JSON event payload', 'unknown repository': 'HTTP 404 Not Found',
            'not a tagger': 'not a saved tagger', 'apply without a token': '$GITHUB_TOKEN'}[case] in err
    assert github.writes == [] and not (env/'summary.md').exists()


def test_report_prints_cuts_and_compares_two_taggers(tagger_dir, tmp_path, capsys):
    assert report_cli(['--model', str(tagger_dir), '--figure', str(tmp_path/'cuts.png')]) == 0
    table = capsys.readouterr().out
    assert table.split()[:5] == ['label', 'cut', 'precision', 'recall', 'tagged'] and 'target' in table
    assert (tmp_path/'cuts.png').is_file() and (tmp_path/'cuts.svg').is_file()
    assert report_cli(['--model', str(tagger_dir), '--no-worse-than', str(tagger_dir)]) == 0  # no worse than itself
    assert json.loads(capsys.readouterr().out)['issues'] == 60
    worse = tmp_path/'worse'
    shutil.copytree(tagger_dir, worse)
    man = json.loads((worse/'tagger.json').read_text())
    man['precision']['labels']['bug']['cut'] = None  # the same scores, one label fewer applied: less coverage
    (worse/'tagger.json').write_text(json.dumps(man))
    assert main(['report', '--model', str(worse), '--no-worse-than', str(tagger_dir)]) == 1
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and 'is worse than' in err[0]


def test_dated_issues_get_cuts_from_time_ordered_folds(tmp_path, capsys):
    "Issues with creation dates: the cuts come from the newer half, each scored by a model of older issues only"
    rows = [{'title': f'{t} report {i}', 'body': w, 'labels': [l],
             'created_at': f'2025-{1 + i % 12:02d}-{1 + i // 12:02d}T09:00:00Z'}
            for i in range(20) for t, (l, w) in TOPICS.items()]
    (tmp_path/'issues.jsonl').write_text(''.join(json.dumps(r) + '\n' for r in rows))
    out = str(tmp_path/'tagger')
    assert main(['train', '--data', str(tmp_path/'issues.jsonl'), '--method', 'naive-bayes', '--precision', '0.9',
                 '--out', out]) == 0
    cv = json.loads((tmp_path/'tagger'/'tagger.json').read_text())['cross_validation']
    assert cv['folds'] == 'time-ordered' and len(cv['digests']) == 30   # 60 issues: the newer 30
    capsys.readouterr()
    assert report_cli(['--model', out, '--no-worse-than', out]) == 0
    assert json.loads(capsys.readouterr().out)['issues'] == 30


@pytest.mark.parametrize('name', ['triage', 'report'])
def test_help_ends_with_an_example(name, capsys):
    assert main([name, '--help']) == 0
    tail = capsys.readouterr().out.rstrip().splitlines()[-2:]
    assert tail[0] == 'example:' or tail[0].strip().startswith(f'tagparrot {name}'), tail
    assert tail[-1].strip().startswith(f'tagparrot {name} --model')


WORKFLOWS = sorted((ROOT/'examples'/'workflows').glob('*.yml'))
KNOWN_ACTIONS = ('actions/checkout@', 'actions/setup-python@', 'actions/cache/restore@', 'actions/cache/save@')


def command_lines(script: str):
    "The `tagparrot COMMAND --option ...` calls of a step's shell script"
    for line in script.replace('\\\n', ' ').splitlines():
        for call in re.findall(r'(?:^|[;&|(!]\s*|if\s+|then\s+)(tagparrot\s+[^;&|)]+)', line.strip()):
            yield shlex.split(call, comments=True)


def test_the_action_and_workflows_parse_and_call_commands_that_exist(capsys):
    action = yaml.safe_load((ROOT/'action.yml').read_text())
    assert action['runs']['using'] == 'composite' and {p.name for p in WORKFLOWS} == {'tagparrot-train.yml', 'tagparrot-triage.yml'}
    steps = list(action['runs']['steps'])
    for wf in WORKFLOWS:
        flow = yaml.safe_load(wf.read_text())
        assert flow.get('permissions') == {} and flow.get(True, flow.get('on'))  # PyYAML reads `on:` as True
        for job in flow['jobs'].values():
            for step in job['steps']:
                steps.append(step)
                if (uses := step.get('uses', '')).startswith('./'):  # this project's action, checked out beside
                    assert set(step.get('with', {})) <= set(action['inputs']), (wf.name, step)
                elif uses: assert uses.startswith(KNOWN_ACTIONS), uses
    calls = [(call, step['run']) for step in steps if 'run' in step for call in command_lines(step['run'])]
    assert {c[1] for c, _ in calls} >= {'data', 'train', 'report', 'triage'}
    for call, script in calls:
        assert call[1] in COMMANDS, call
        assert main([call[1], *([call[2]] if call[1] == 'data' and call[2] == 'fetch' else []), '--help']) == 0
        helptext = capsys.readouterr().out
        in_arrays = re.findall(r'\+?=\((--[\w-]+)', script) if any(a.startswith('"${') or a.startswith('${') for a in call) else []
        for opt in [a.split('=')[0] for a in call[2:] if a.startswith('--')] + in_arrays:  # options passed through a bash array too
            assert re.search(rf'(^|\s){re.escape(opt)}\b', helptext), (call, opt)


def test_only_the_applying_job_may_write_issues():
    flow = yaml.safe_load((ROOT/'examples'/'workflows'/'tagparrot-triage.yml').read_text())
    writes = {name for name, job in flow['jobs'].items() if (job.get('permissions') or {}).get('issues') == 'write'}
    assert writes == {'apply'} and "vars.TAGPARROT_APPLY == 'true'" in flow['jobs']['apply']['if']
    assert "vars.TAGPARROT_APPLY != 'true'" in flow['jobs']['propose']['if']
    train = yaml.safe_load((ROOT/'examples'/'workflows'/'tagparrot-train.yml').read_text())
    assert all((job.get('permissions') or {}).get('issues') in (None, 'read') for job in train['jobs'].values())
