"The command line explains itself: every registered command is listed with a description, and every command's help shows defaults and ends with an example."
import re, subprocess, sys
from pathlib import Path

import pytest

from tagparrot.core import BENCHES, COMMANDS, main

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
