#!/usr/bin/env python3
"""Profile CLI: ``python analyze.py --help`` lists the commands."""

import sys

from app.cli import main

if __name__ == "__main__":
    sys.exit(main())
