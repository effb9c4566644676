"""``python -m medlab.data fetch all|NAME...`` downloads registered files before a flight;
``python -m medlab.data list`` shows the registry."""

from __future__ import annotations

import argparse
import sys

from medlab.config import data_dir
from medlab.data.download import DownloadError, fetch
from medlab.data.registry import REGISTRY


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(prog="python -m medlab.data")
    sub = parser.add_subparsers(dest="command", required=True)
    sub.add_parser("list", help="show the registered data sets")
    get = sub.add_parser("fetch", help="download data sets into the cache")
    get.add_argument("names", nargs="+", help="'all' or registry names")
    args = parser.parse_args(argv)
    if args.command == "list":
        for entry in REGISTRY.values():
            print(f"{entry.name:16s} {entry.licence:10s} {entry.description}")
        print(f"cache: {data_dir()}")
        return 0
    names = list(REGISTRY) if args.names == ["all"] else args.names
    unknown = [n for n in names if n not in REGISTRY]
    if unknown:
        parser.error(f"unknown data sets {unknown}; known: {sorted(REGISTRY)}")
    failed = 0
    for name in names:
        try:
            print(f"{name}: {fetch(name)}")
        except DownloadError as exc:
            print(f"{name}: FAILED: {exc}", file=sys.stderr)
            failed += 1
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
