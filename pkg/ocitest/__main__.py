"""`ocitest` console script and `python -m ocitest`: the commands of ./ocitest."""

from __future__ import annotations

import sys


def main() -> int:
    from ocitest import use_harness

    use_harness()
    from infra.cli import main as cli_main

    return cli_main()


if __name__ == "__main__":
    sys.exit(main())
