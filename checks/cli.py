"""The ``scoru`` command line.

Every command reports bad input as one clear line on standard error and
exits with status 2; no Python traceback reaches the user.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Callable, Sequence

from checks import (
    cmd_check,
    cmd_constants,
    cmd_demo,
    cmd_game,
    cmd_inbox,
    cmd_run,
    cmd_simulate,
)
from spec.errors import ScoruError

#: Exit statuses shared by every command.
EXIT_OK = 0
EXIT_VIOLATION = 1
EXIT_USAGE = 2
EXIT_UNKNOWN = 3

Command = Callable[[argparse.Namespace], int]


class _Parser(argparse.ArgumentParser):
    """argparse with a one-line usage error and status 2."""

    def error(self, message: str) -> None:  # type: ignore[override]
        self.exit(EXIT_USAGE, f"scoru: error: {message}\n")


def build_parser() -> argparse.ArgumentParser:
    parser = _Parser(
        prog="scoru",
        description="Executable, model-checked specification of Tezos Smart Optimistic Rollups.",
    )
    sub = parser.add_subparsers(dest="command", metavar="COMMAND", parser_class=_Parser)
    sub.required = True
    for module in (cmd_demo, cmd_check, cmd_simulate, cmd_game, cmd_inbox, cmd_run, cmd_constants):
        module.register(sub)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of the ``scoru`` console script."""
    parser = build_parser()
    args = parser.parse_args(argv)
    run: Command = args.run
    try:
        return run(args)
    except ScoruError as exc:
        print(f"scoru: error: {exc}", file=sys.stderr)
        return EXIT_USAGE
    except KeyboardInterrupt:
        print("scoru: interrupted", file=sys.stderr)
        return 130
    except BrokenPipeError:
        return EXIT_OK


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
