#!/usr/bin/env python
"The study as a script: the same as `tagparrot study` (see `tagparrot study --help`)."
import sys

from tagparrot.cli import main

if __name__ == '__main__':
    sys.exit(main(['study', *sys.argv[1:]]))
