"The command line explains itself: every registered command is listed with a description, and every command's help shows defaults and ends with an example."
import argparse, contextlib, io, re, shlex, subprocess, sys
from unittest.mock import patch
from pathlib import Path

import pytest

from tagparrot.cli import BENCHES, COMMANDS, main

CLI = str(Path(sys.executable).with_name('tagparrot'))


def test_top_level_help_lists_every_command_with_a_description():
    r = subprocess.run([CLI, '--help'], capture_output=True, text=True, timeout=600)
    assert r.returncode == 0, r.stderr
    for name in COMMANDS:
        line = re.search(rf"^\s+{re.escape(name)}(\s+\S.*|\n\s{{10,}}\S.*)$", r.stdout, re.M)
        assert line and len(line.group(1).strip()) > 10, f"{name} has no description in:\n{r.stdout}"
    assert 'example:' in r.stdout


def test_version_and_python_dash_m():
    from tagparrot import __version__
    for cmd in ([CLI, '--version'], [sys.executable, '-m', 'tagparrot', '--version']):
        r = subprocess.run(cmd, capture_output=True, text=True, timeout=600)
        assert r.returncode == 0 and r.stdout.strip() == f"tagparrot {__version__}", (cmd, r.stdout, r.stderr)


@pytest.mark.parametrize('name', list(COMMANDS))
def test_each_command_help_has_an_example(name, capsys):
    assert main([name, '--help']) == 0
    out = capsys.readouterr().out
    assert out.startswith('usage: tagparrot') and 'example' in out.lower()


def test_defaults_are_shown_and_unknown_commands_are_one_line_errors(capsys):
    assert main(['tag', '--help']) == 0
    assert '(default: 64)' in capsys.readouterr().out  # --batch-size, from the formatter
    assert main(['no-such-command']) == 1
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and "invalid choice: 'no-such-command'" in err[0]
    assert set(BENCHES) and main(['bench', 'no-such-bench']) == 1


class _Parsed(Exception):
    "Raised once a command's own parser has accepted its arguments, before the command does any work"


def _examples() -> dict[tuple, list[str]]:
    "Each command's and sub-command's argv prefix -> the example lines printed at the end of its `--help`"
    seen, todo, out = [], [()], {}
    real = argparse.ArgumentParser.parse_known_args
    def record(self, *a, **kw):
        seen.append(self)
        return real(self, *a, **kw)
    with patch.object(argparse.ArgumentParser, 'parse_known_args', record):
        while todo:
            prefix = todo.pop()
            seen.clear()
            with contextlib.redirect_stdout(io.StringIO()):
                assert main([*prefix, '--help']) == 0, prefix
            parser = seen[-1]  # the innermost parser: the one that printed the help
            out[prefix] = [line.strip() for line in (parser.epilog or '').split('example:', 1)[-1].splitlines() if line.strip()]
            subs = [a for a in parser._actions if isinstance(a, argparse._SubParsersAction)]
            todo += [(*prefix, name) for a in subs for name in a.choices]
    return out


EXAMPLES = _examples()


def test_every_command_and_sub_command_has_an_example():
    assert set(COMMANDS) | {f'bench {b}' for b in BENCHES} <= {' '.join(p) for p in EXAMPLES}
    assert ('corpus', 'build') in EXAMPLES and ('bench', 'attention') in EXAMPLES
    assert all(lines and all(l.startswith('tagparrot ') for l in lines) for lines in EXAMPLES.values()), EXAMPLES


@pytest.mark.parametrize('line', sorted({l for lines in EXAMPLES.values() for l in lines if 'COMMAND' not in l}))
def test_help_example_parses(line):
    "Each example is parsed by its command's own parser, which stops there: the example's work is not run"
    argv = shlex.split(line.split('  (')[0])[1:]
    real = argparse.ArgumentParser.parse_args
    def parse_then_stop(self, *a, **kw):
        real(self, *a, **kw)  # argparse's usage errors are SystemExit(2)
        raise _Parsed
    with patch.object(argparse.ArgumentParser, 'parse_args', parse_then_stop), pytest.raises(_Parsed):
        main(argv)
