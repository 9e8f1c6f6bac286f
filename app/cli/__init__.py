"""``analyze.py``: one command line over the same functions the pages call.

Exit status (spec §6): 0 done, 2 bad input (one line on stderr), 1 internal error.
"""

from __future__ import annotations

import argparse
import importlib
import sys
from typing import NoReturn, Sequence

from app.engine.errors import InputError

# Each module adds its sub-commands through ``register(subparsers)``.
COMMAND_MODULES = ("discovery", "projections", "probe", "report", "importing", "demo", "cube")


class _Parser(argparse.ArgumentParser):
    def error(self, message: str) -> NoReturn:  # one line, exit 2, like every other bad input
        self.exit(2, f"{self.prog}: error: {message}\n")


def build_parser() -> argparse.ArgumentParser:
    """Every subcommand of ``analyze.py`` (the projections' from their declarations)."""
    parser = _Parser(prog="analyze.py", description="Profile: characterise and compare LLM evaluation results.")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND", parser_class=_Parser)
    sub.required = True
    for name in COMMAND_MODULES:
        importlib.import_module(f"app.cli.{name}").register(sub)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Run one command; the exit status of spec §6."""
    args = build_parser().parse_args(argv)
    try:
        return int(args.run(args) or 0)
    except InputError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print("interrupted", file=sys.stderr)
        return 130
    except BrokenPipeError:
        return 0
    except Exception as exc:  # a bug: say so plainly, keep the details for the report
        import traceback

        traceback.print_exc()
        print(f"internal error: {type(exc).__name__}: {exc}", file=sys.stderr)
        return 1
