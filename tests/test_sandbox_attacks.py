"""Attacks a hostile completion could make on the HumanEval sandbox, run together in parallel: none may pass, reach
the host (files, sockets, processes, environment) or leave anything behind (files, processes, cgroups)."""
import concurrent.futures as cf, os, secrets, shutil, signal, socket, subprocess, textwrap, threading, time
from pathlib import Path

import pytest

from tagparrot.codeparrot.codeeval import SampleCgroup, isolation_problem, load_humaneval, run_sample
from tagparrot.core import project_path

pytestmark = pytest.mark.slow  # every attack runs in its own sandbox


def cgroups_available() -> bool:
    probe = SampleCgroup.make(64 << 20, 4) if os.geteuid() == 0 else None
    if probe: probe.remove()
    return probe is not None


PROBLEM = load_humaneval()[0]          # has_close_elements: `return False` is a wrong answer
TAG = secrets.token_hex(6)             # names every trace an attack could leave on the host
CANARY = f'canary-{TAG}'               # a secret in the harness's environment
ROOT_ONLY = Path('/tmp')/f'tagparrot-root-only-{TAG}'
PLANTED = [project_path(f'pwned-{TAG}'), Path('/tmp')/f'pwned-{TAG}', Path('/dev/shm')/f'pwned-{TAG}',
           Path('/tmp')/f'daemon-{TAG}']


class Listeners:
    "A TCP port, a unix socket in /tmp and an abstract unix socket on the host, each recording who connects"
    def __init__(self):
        self.tcp = socket.create_server(('127.0.0.1', 0)); self.port = self.tcp.getsockname()[1]
        self.path = f'/tmp/tagparrot-sock-{TAG}'
        self.unix = socket.socket(socket.AF_UNIX); self.unix.bind(self.path); os.chmod(self.path, 0o777)
        self.abstract = socket.socket(socket.AF_UNIX); self.abstract.bind(f'\0tagparrot-{TAG}')
        self.seen = []
        for s in (self.tcp, self.unix, self.abstract):
            s.listen(); threading.Thread(target=self.accept, args=(s,), daemon=True).start()
    def accept(self, s):
        try:
            while True: self.seen.append(s.accept())
        except OSError: pass
    def close(self):
        for s in (self.tcp, self.unix, self.abstract): s.close()
        os.unlink(self.path)


def wrong(attack: str) -> str:
    "A wrong completion whose module-level code then runs `attack`"
    return '    return False\n\n' + textwrap.dedent(attack)


def attacks(port, sentinel, unix_path):
    reach = f'''
        import socket
        for family, address in ((socket.AF_INET, ("127.0.0.1", {port})), (socket.AF_UNIX, {unix_path!r}),
                                (socket.AF_UNIX, "\\0tagparrot-{TAG}")):
            try: socket.socket(family).connect(address); print("REACHED", address)
            except OSError as e: print("blocked", e)
        '''
    return {
        # forged verdicts
        'exit-zero': wrong('print("passed"); import os; os._exit(0)'),
        'exit-inside-call': '    print("passed", flush=True)\n    import os; os._exit(0)\n',
        'atexit-writes-every-fd': wrong('''
            import atexit, os
            def forge():
                for fd in range(0, 256):
                    try: os.write(fd, b"passed\\n")
                    except OSError: pass
                os._exit(0)
            atexit.register(forge)
            '''),
        'rigged-eq': '    class Always:\n        def __eq__(self, other): return True\n    return Always()\n',
        'answers-ahead': wrong('''
            import os
            for fd in range(3, 64):
                try: os.write(fd, b'{"value": true}\\n' * 50)
                except OSError: pass
            '''),
        'looks-for-tests': wrong('''
            import gc, os, sys
            found = [o for o in gc.get_objects() if isinstance(o, str) and 'assert candidate' in o]
            for pid in os.listdir('/proc'):
                if pid.isdigit():
                    try: found.append(open(f'/proc/{pid}/cmdline').read())
                    except OSError: pass
            print("TESTS SEEN" if any('assert candidate' in f for f in found) else "no tests")
            '''),
        # the host's files, through links, FIFOs and special files
        'links-and-fifos': wrong(f'''
            import os
            os.symlink({str(ROOT_ONLY)!r}, 'out.txt'); os.mkfifo('verdict'); os.symlink('/dev/zero', 'result')
            for p in ({str(ROOT_ONLY)!r}, '/etc/shadow', '/root'):
                try: print(open(p).read())
                except OSError as e: print("blocked", e)
            '''),
        'writes-into-project': wrong(f'''
            for p in {[str(p) for p in PLANTED[:3]]!r}:
                try: open(p, "w").write("x"); print("planted", p)
                except OSError as e: print("blocked", e)
            '''),
        'shared-tmp-writer': wrong(f'''
            open("/tmp/shared-{TAG}", "w").write("x"); open("/dev/shm/shared-{TAG}", "w").write("x")
            import time; time.sleep(1.0)
            '''),
        'shared-tmp-reader': wrong('''
            import os, time
            time.sleep(0.5); print("LISTING", os.listdir("/tmp"), os.listdir("/dev/shm"))
            '''),
        'environ': wrong('''
            import os
            dump = [str(dict(os.environ))]
            for pid in os.listdir('/proc'):
                if pid.isdigit():
                    try: dump.append(open(f'/proc/{pid}/environ', 'rb').read().decode('latin-1'))
                    except OSError: pass
            print(dump)
            '''),
        # the network, with ordinary modules and with the ones a Python-level guard would have blocked
        'sockets': wrong(reach),
        'raw-modules': wrong(f'''
            import sys
            sys.modules.pop("ctypes", None); import ctypes, _socket
            s = _socket.socket()
            try: s.connect(("127.0.0.1", {port})); print("REACHED tcp")
            except OSError as e: print("blocked", e)
            libc = ctypes.CDLL(None)
            print("kill", libc.kill({sentinel}, 9), libc.kill({os.getpid()}, 9))
            '''),
        # processes
        'kills': wrong(f'''
            import os, signal
            for pid in ({sentinel}, {os.getpid()}, os.getppid(), -1):
                try: os.kill(pid, signal.SIGKILL)
                except OSError as e: print("blocked", e)
            '''),
        'double-fork-daemon': wrong(f'''
            import os, socket, time
            if os.fork() == 0:
                os.setsid()
                if os.fork() == 0:
                    time.sleep(1.5)
                    try: open({str(PLANTED[3])!r}, "w").write("still alive")
                    finally: socket.create_connection(("127.0.0.1", {port}), timeout=1)
                os._exit(0)
            '''),
        'fork-bomb': wrong('''
            import os
            while True:
                try: os.fork()
                except OSError: pass
            '''),
        'two-children-memory': wrong('''
            import os, time
            for i in range(2):
                if os.fork() == 0:
                    try: block = b"x" * (600 << 20); print("HELD", flush=True); time.sleep(1.5)
                    except MemoryError: print("REFUSED", flush=True)
                    finally: os._exit(0)
            print("ENDED", [os.wait()[1] for _ in range(2)], flush=True)
            '''),
        'stdout-flood': wrong('while True: print("x" * 100000)'),
        'disk-fill': wrong('''
            total = 0
            for d in ('/tmp', '/dev/shm', '/', '/dev', '/usr'):
                for i in range(10000):
                    try:
                        with open(f'{d}/fill-{d.replace("/", "")}-{i}', 'wb') as f: f.write(b'x' * (1 << 20))
                        total += 1 << 20
                    except OSError: break
            print("WROTE", total)
            '''),
    }


@pytest.fixture(scope='module')
def outcome():
    "Every attack run once, in parallel, next to correct samples; then what the host looks like afterwards"
    assert isolation_problem() is None, f'the sandbox is not available here: {isolation_problem()}'
    ROOT_ONLY.write_text(f'root-secret-{TAG}'); ROOT_ONLY.chmod(0o600)
    os.environ['TAGPARROT_CANARY'] = CANARY
    listeners = Listeners()
    sentinel = subprocess.Popen(['sleep', '60'])
    runs = {**{k: (v, {}) for k, v in attacks(listeners.port, sentinel.pid, listeners.path).items()},
            'fork-bomb-rlimits': (attacks(0, 0, '')['fork-bomb'], {'limits': 'rlimit'}),
            'two-children-rlimits': (attacks(0, 0, '')['two-children-memory'], {'limits': 'rlimit'}),
            **{f'correct-{i}': (PROBLEM['canonical_solution'], {}) for i in range(3)}}
    try:
        t0 = time.monotonic()
        with cf.ThreadPoolExecutor(6) as pool:
            futures = {k: pool.submit(run_sample, PROBLEM, completion, timeout=10.0 if 'children' in k else 4.0, **kw)
                       for k, (completion, kw) in runs.items()}
            results = {k: f.result() for k, f in futures.items()}
        seconds = time.monotonic() - t0
        time.sleep(2.0)   # time for a surviving daemon to act
        traces = PLANTED + [Path('/tmp')/f'shared-{TAG}', Path('/dev/shm')/f'shared-{TAG}']
        after = {'sentinel_alive': sentinel.poll() is None, 'connections': len(listeners.seen),
                 'planted': [str(p) for p in traces if p.exists()],
                 'nobody_processes': subprocess.run(['ps', '-u', '65534', '-o', 'pid=,args='], capture_output=True,
                                                    text=True).stdout.strip(),
                 'cgroups': [str(p) for p in Path('/sys/fs/cgroup').glob('*/**/tagparrot-*')],
                 'seconds': seconds}
    finally:
        sentinel.kill(); listeners.close(); ROOT_ONLY.unlink()
        del os.environ['TAGPARROT_CANARY']
        for p in PLANTED: p.unlink(missing_ok=True)
    return results, after


FORGERS = ['exit-zero', 'exit-inside-call', 'atexit-writes-every-fd', 'rigged-eq', 'answers-ahead', 'looks-for-tests']


@pytest.mark.parametrize('name', FORGERS)
def test_no_forged_pass(outcome, name):
    assert outcome[0][name]['status'] != 'passed', outcome[0][name]


def test_no_attack_passes_and_correct_samples_still_pass(outcome):
    results, after = outcome
    assert {k for k, r in results.items() if r['status'] == 'passed'} == {'correct-0', 'correct-1', 'correct-2'}
    assert after['seconds'] < 40, after['seconds']


def test_tests_and_host_files_are_out_of_sight(outcome):
    out = {k: r['output'] for k, r in outcome[0].items()}
    assert 'no tests' in out['looks-for-tests']
    assert f'root-secret-{TAG}' not in out['links-and-fifos'] and 'root:' not in out['links-and-fifos']
    assert out['links-and-fifos'].count('blocked') == 3
    assert f'planted {PLANTED[0]}' not in out['writes-into-project'] and 'blocked' in out['writes-into-project']


def test_tmp_is_private_per_sample(outcome):
    listing = outcome[0]['shared-tmp-reader']['output']
    assert 'LISTING' in listing and f'shared-{TAG}' not in listing


def test_harness_environment_is_not_readable(outcome):
    assert CANARY not in outcome[0]['environ']['output'] and 'TAGPARROT_SHARED' not in outcome[0]['environ']['output']


def test_nothing_reached(outcome):
    results, after = outcome
    assert after['connections'] == 0
    for k in ('sockets', 'raw-modules'): assert 'REACHED' not in results[k]['output'], results[k]['output']
    assert results['sockets']['output'].count('blocked') == 3
    assert after['sentinel_alive']   # neither kill(2) nor ctypes reached a host process (nor this one)


def test_memory_and_processes_are_capped_per_sample(outcome):
    results, after = outcome
    capped = results['two-children-rlimits']['output']   # each process holds a share of the budget
    assert capped.count('REFUSED') == 2 and 'HELD' not in capped, capped
    both = results['two-children-memory']['output']
    if cgroups_available():   # the two blocks are never held at once: the cgroup kills one child (the second may
        # then finish its block and say HELD too, once the first is gone)
        ended = both.split('ENDED')[1] if 'ENDED' in both else ''
        assert both.count('HELD') <= 1 or '9' in ended, both
    else: assert both.count('REFUSED') == 2, both
    for k in ('fork-bomb', 'fork-bomb-rlimits', 'stdout-flood'): assert results[k]['status'] in ('failed', 'timeout')
    assert len(results['stdout-flood']['output']) <= 1000
    wrote = int(results['disk-fill']['output'].split('WROTE')[1].split()[0])
    assert wrote <= (64 + 16 + 1) << 20, wrote   # the private /tmp and /dev/shm are capped; the rest is read-only


def test_nothing_left_behind(outcome):
    after = outcome[1]
    assert after['planted'] == [] and after['nobody_processes'] == '' and after['cgroups'] == [], after
