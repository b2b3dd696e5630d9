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
        description="ModStudio: compose networks from modules on a canvas and learn a sequence "
        "of tasks without forgetting the earlier ones.",
    )
    parser.add_argument("--version", action="version", version=f"modstudio {__version__}")
    parser.add_subparsers(dest="command", metavar="COMMAND")
    return parser


def main(argv: list[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    if args.command is None:
        parser.print_help()
        return 0
    parser.error(f"unknown command {args.command!r}")
    return 2


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
