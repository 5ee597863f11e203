"""Command line: ``python -m wsresilience.signoff OUTPUT [--baseline PREVIOUS_OUTPUT] [--xunit FILE]``."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from robot.errors import DataError

from . import load, load_baseline, publish
from .baseline import DEFAULT_DRIFT


def main(argv: list[str] | None = None) -> int:
    """Write signoff.html (and optionally JUnit XML); exit 0 when written, 2 on bad input.

    The exit code does not repeat the verdict: robot's own exit code already fails a CI job.
    """
    parser = argparse.ArgumentParser(
        prog="python -m wsresilience.signoff",
        description="Write signoff.html beside a Robot Framework output.xml (plain or pabot-merged).",
    )
    parser.add_argument("output", type=Path, help="output.xml (or Robot's JSON output) from robot, rebot or pabot")
    parser.add_argument("--xunit", type=Path, help="also write JUnit XML, one testcase per criterion "
                        "(relative paths are beside the output)")
    parser.add_argument("--log", default="log.html", help="log.html to link into, relative to the "
                        "output's directory (default: log.html; NONE for no links)")
    parser.add_argument("--baseline", type=Path, help="an earlier run's output (XML or JSON): show each "
                        "figure's change since it and flag figures drifting towards their threshold")
    parser.add_argument("--drift", type=float, default=DEFAULT_DRIFT, help="flag a figure that used up more "
                        f"than this fraction of its baseline margin (default {DEFAULT_DRIFT})")
    args = parser.parse_args(argv)
    if not args.output.is_file():
        print(f"signoff: Robot output file not found: {args.output}", file=sys.stderr)
        return 2
    try:
        signoff = load(args.output)
    except DataError as error:
        print(f"signoff: cannot read {args.output}: {error}", file=sys.stderr)
        return 2
    comparison = None
    if args.baseline is not None:
        if not args.baseline.is_file():
            print(f"signoff: baseline output file not found: {args.baseline}", file=sys.stderr)
            return 2
        try:
            comparison = load_baseline(args.baseline, signoff, args.drift)
        except DataError as error:
            print(f"signoff: cannot read baseline {args.baseline}: {error}", file=sys.stderr)
            return 2
    page = publish(signoff, log=args.log, xunit=args.xunit, comparison=comparison)
    print(f"Sign-off: {signoff.verdict}  {page}")
    if comparison is not None:
        flagged = ", ".join(f"{cid} {name} ({trend.status})" for (cid, name, _), trend in comparison.flagged)
        print(f"Baseline: {args.baseline}; {len(comparison.flagged)} figure(s) drifted or crossed"
              + (f": {flagged}" if flagged else ""))
    if args.xunit:
        print(f"JUnit:    {args.xunit if args.xunit.is_absolute() else args.output.parent / args.xunit}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
