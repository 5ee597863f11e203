"""Command line: ``python -m wsresilience.signoff OUTPUT.xml [--xunit FILE] [--log log.html]``."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from robot.errors import DataError

from . import load, publish


def main(argv: list[str] | None = None) -> int:
    """Write signoff.html (and optionally JUnit XML); exit 0 when written, 2 on bad input.

    The exit code does not repeat the verdict: robot's own exit code already fails a CI job.
    """
    parser = argparse.ArgumentParser(
        prog="python -m wsresilience.signoff",
        description="Write signoff.html beside a Robot Framework output.xml (plain or pabot-merged).",
    )
    parser.add_argument("output", type=Path, help="output.xml from robot, rebot or pabot")
    parser.add_argument("--xunit", type=Path, help="also write JUnit XML, one testcase per criterion "
                        "(relative paths are beside the output)")
    parser.add_argument("--log", default="log.html", help="log.html to link into, relative to the "
                        "output's directory (default: log.html; NONE for no links)")
    args = parser.parse_args(argv)
    if not args.output.is_file():
        print(f"signoff: Robot output file not found: {args.output}", file=sys.stderr)
        return 2
    try:
        signoff = load(args.output)
    except DataError as error:
        print(f"signoff: cannot read {args.output}: {error}", file=sys.stderr)
        return 2
    page = publish(signoff, log=args.log, xunit=args.xunit)
    print(f"Sign-off: {signoff.verdict}  {page}")
    if args.xunit:
        print(f"JUnit:    {args.xunit if args.xunit.is_absolute() else args.output.parent / args.xunit}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
