"""The ``modstudio`` command line.

Each subcommand lives in its own small function; heavy imports (torch, Qt) happen inside them
so that ``modstudio --help`` answers instantly.
"""

from __future__ import annotations

import argparse
import sys

from modstudio import __version__


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="modstudio",
        usage="%(prog)s [PROJECT]          open the studio (optionally a project or a data file)\n"
              "       %(prog)s COMMAND [options]",
        description="ModStudio: compose networks from modules on a canvas and learn a sequence "
        "of tasks without forgetting the earlier ones.",
    )
    parser.add_argument("--version", action="version", version=f"modstudio {__version__}")
    parser.add_subparsers(dest="command", metavar="COMMAND")
    return parser


def _command_names(parser: argparse.ArgumentParser) -> set[str]:
    for action in parser._actions:  # argparse keeps subcommands here; there is no public accessor
        if isinstance(action, argparse._SubParsersAction):
            return set(action.choices)
    return set()


def open_studio(project: str | None = None) -> int:
    """The desktop window; Qt is imported only now, so the other commands stay light."""
    from modstudio.gui.app import run

    return run(project)


def main(argv: list[str] | None = None) -> int:
    parser = build_parser()
    argv = sys.argv[1:] if argv is None else list(argv)
    if not argv or (len(argv) == 1 and not argv[0].startswith("-") and argv[0] not in _command_names(parser)):
        return open_studio(argv[0] if argv else None)
    args = parser.parse_args(argv)
    if args.command is None:
        parser.print_help()
        return 0
    parser.error(f"unknown command {args.command!r}")
    return 2


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
