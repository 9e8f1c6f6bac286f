"""``analyze.py import``: read evaluation results with an adapter into a dataset folder.

The adapters named in ``--help`` are read from the registry each time the parser is built,
so an adapter registered later (a plugin, a test) is listed and accepted with no edit here;
so are the flags adapters declare (``options``: ``--scorer`` of inspect, ...), whose values
reach the chosen adapter as ``ctx.options``.
"""

from __future__ import annotations

import argparse

from app.engine.errors import InputError
from app.importers import adapters
from app.importers.base import AdapterOption, adapter_options
from app.importers.runner import import_sources


def adapters_epilog() -> str:
    """One line per registered adapter: name, what it reads, and its file suffixes."""
    registered = adapters()
    width = max((len(a.name) for a in registered), default=0)
    lines = [f"  {a.name:<{width}}  {a.help}" + (f" [{' '.join(a.suffixes)}]" if a.suffixes else "")
             for a in registered]
    return "adapters:\n" + "\n".join(lines)


def register(sub) -> None:
    """Add the ``import`` sub-command to ``sub``."""
    names = ", ".join(a.name for a in adapters())
    parser = sub.add_parser(
        "import", help="import results into a dataset folder (new or merged)",
        description="Import evaluation results with an adapter and write (or merge into) a dataset folder, "
                    "atomically: on any bad record the target is left exactly as it was.",
        epilog=adapters_epilog(), formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("sources", nargs="+", metavar="SOURCE", help="files or folders to read")
    parser.add_argument("--adapter", required=True, metavar="NAME", help=f"source format: one of {names}")
    parser.add_argument("--out", required=True, metavar="DIR", help="dataset folder to create or merge into")
    parser.add_argument("--name", help="dataset name (default: the folder name; kept when merging)")
    parser.add_argument("--partition-by", choices=["eval_id"], default=None,
                        help="write the samples as a folder with one Parquet file per eval, which a cube build "
                             "(analyze.py cube) reads in parallel; a merge keeps the target's form")
    for option, _ in _declared_options().values():
        parser.add_argument(option.flag, dest=_attribute(option.flag), metavar=option.metavar,
                            help=_flag_help(option.flag))
    parser.set_defaults(run=_run)


def _declared_options() -> dict[str, tuple[AdapterOption, list[str]]]:
    """Each flag the registered adapters declare, once, with the names of the adapters that use it."""
    flags: dict[str, tuple[AdapterOption, list[str]]] = {}
    for adapter in adapters():
        for option in adapter_options(adapter):
            flags.setdefault(option.flag, (option, []))[1].append(adapter.name)
    return flags


def _flag_help(flag: str) -> str:
    """The flag's help, once per distinct wording: adapters sharing a flag (``--params``) may differ in detail."""
    by_help: dict[str, list[str]] = {}
    for adapter in adapters():
        for option in adapter_options(adapter):
            if option.flag == flag:
                by_help.setdefault(option.help, []).append(adapter.name)
    return "; ".join(f"{text} (adapter{'s' if len(users) > 1 else ''} {', '.join(users)})"
                     for text, users in by_help.items())


def _attribute(flag: str) -> str:
    """The argparse attribute of an adapter flag (``--scorer`` -> ``option_scorer``)."""
    return "option_" + flag.lstrip("-").replace("-", "_")


def _options(args: argparse.Namespace) -> dict[str, object]:
    """The chosen adapter's option values by ``dest``; a flag it does not declare, given anyway, is bad input."""
    chosen = [a for a in adapters() if a.name == args.adapter]
    if not chosen:
        return {}  # the runner reports the unknown adapter
    own = {o.flag: o for o in adapter_options(chosen[0])}
    for flag, (_, users) in _declared_options().items():
        if flag not in own and getattr(args, _attribute(flag), None) is not None:
            raise InputError(f"{flag} is not an option of adapter {args.adapter!r}; it applies to "
                             f"{', '.join(users)}")
    return {o.dest: getattr(args, _attribute(flag)) for flag, o in own.items()}


def _run(args: argparse.Namespace) -> int:
    report = import_sources(args.sources, args.adapter, args.out, args.name, options=_options(args),
                            partition=True if args.partition_by else None)
    print("\n".join(report.lines()))
    return 0
