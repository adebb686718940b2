"""Command-line options shared by the calibration and sensitivity commands."""

from __future__ import annotations

import argparse
import os


def parser(description: str, conf_file: str) -> argparse.ArgumentParser:
    """--quick, --results-dir, --workers and whether to rewrite the committed ``conf_file``."""
    ap = argparse.ArgumentParser(description=description)
    ap.add_argument("--quick", action="store_true", help="CI smoke run (about a minute)")
    ap.add_argument("--results-dir", default="results", help="where the <command>-<unique>/ folder goes")
    ap.add_argument("--workers", type=int, default=os.cpu_count() or 1)
    ap.add_argument("--write-conf", dest="write_conf", action="store_true", default=None,
                    help=f"write {conf_file} (default: yes, except with --quick)")
    ap.add_argument("--no-write-conf", dest="write_conf", action="store_false")
    return ap


def writes_conf(args: argparse.Namespace) -> bool:
    return (not args.quick) if args.write_conf is None else args.write_conf
