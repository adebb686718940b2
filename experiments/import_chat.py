"""Import a WhatsApp chat export of your own group and calibrate a case to it.

    python -m experiments.import_chat PATH --name NAME [--members N] [--quick]

PATH is WhatsApp's "Export chat" file: a ``.txt``, or a ``.zip`` (with or without media), from Android
or iOS, with Dutch or English phone settings and a 12- or 24-hour clock. The export is read in memory
and pseudonymised at once; message text is used only to classify messages and is never written. Writes
``conf/case/<NAME>.yaml`` (then ``case=<NAME>`` works in single runs, sweeps, the national run and the
app) and a report in ``results/chat-<NAME>-<unique>/``. The fit is the six-case calibration's ABC-SMC,
with everything the chat cannot tell drawn from the six-case posterior sample (``--posterior``). Bad input gets a one-line error and nothing is written.
See docs/chat_import.md.
"""

from __future__ import annotations

import argparse
import re
import sys
import traceback
from pathlib import Path

from experiments import posterior, store
from experiments.chat_import import calibrate, classify, report, statistics
from experiments.chat_import.parse import ChatImportError, parse_file
from experiments.study import CONF

MIN_DAYS = 90            # shorter windows hold too few signals to tell the chat parameters apart
MIN_MESSAGES = 20
NAME = re.compile(r"^[a-z][a-z0-9_]{1,39}$")


def check_name(name: str, case_dir: Path, overwrite: bool) -> Path:
    if not NAME.match(name):
        raise ChatImportError(f"--name {name!r}: use 2-40 lower-case letters, digits or _ (a case name, "
                              "not the group's real name)")
    path = case_dir / f"{name}.yaml"
    if path.exists() and not overwrite:
        raise ChatImportError(f"{path} exists; choose another --name or pass --overwrite")
    return path


def check_group(log: classify.GroupLog, stats: dict) -> None:
    """A clear error for what cannot be calibrated (before anything is written)."""
    posters = stats["authors"]
    if stats["messages"] == 0:
        raise ChatImportError("the export holds no messages (only system lines)")
    if posters < 2:
        raise ChatImportError(f"a one-person chat: {posters} member posts; a group export needs at least two")
    if stats["window_days"] < MIN_DAYS:
        raise ChatImportError(f"the export covers {stats['window_days']:.0f} days; calibrating needs at least "
                              f"{MIN_DAYS} days (about {MIN_DAYS // 30} months) of chat")
    if stats["messages"] < MIN_MESSAGES:
        raise ChatImportError(f"the export holds {stats['messages']} messages; calibrating needs at least "
                              f"{MIN_MESSAGES}")
    if log.members_end < 2:
        raise ChatImportError(f"{log.members_end} members at the end; pass the group's size with --members N")


def run(args: argparse.Namespace) -> Path:
    case_dir = Path(args.case_dir)
    case_file = check_name(args.name, case_dir, args.overwrite)
    export = parse_file(Path(args.path))
    log = classify.group_log(export, args.members)
    del export                      # the last object holding message text
    stats = statistics.describe(log)
    check_group(log, stats)
    settings = calibrate.QUICK if args.quick else calibrate.DEFAULT
    print(f"{stats['messages']} messages over {stats['window_days']:.0f} days, {stats['members_start']} members "
          f"at the start; fitting (pyabc, population {settings.population}) ...", flush=True)
    try:
        posterior.load_sample(Path(args.posterior))
    except ValueError as err:
        raise ChatImportError(f"the six-case posterior: {err}") from None
    start = calibrate.start_params(stats["members_start"])
    out = store.new_results_dir(Path(args.results_dir), f"chat-{args.name}")   # pyabc's history.db goes here
    fit = calibrate.fit_case(stats, max(1, round(stats["window_days"])), start, out, settings,
                             sample=Path(args.posterior), workers=args.workers)
    fit.params()                    # validates every fitted value before the case is written
    report.write(out, args.name, stats, fit, settings, case_file)
    case_dir.mkdir(parents=True, exist_ok=True)
    calibrate.write_case(case_file, fit, stats, settings)
    met = fit.predictive[fit.predictive.fitted].met
    print(f"wrote {case_file} ({int(met.sum())} of {len(met)} fitted statistics met) and {out / 'report.md'}")
    return case_file


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("path", help="the export: a .txt or a .zip")
    ap.add_argument("--name", required=True, help="name of the new case (conf/case/<name>.yaml)")
    ap.add_argument("--members", type=int, default=None,
                    help="members now (WhatsApp's group info); default: everyone the export shows")
    ap.add_argument("--quick", action="store_true", help="a small fit (about a minute); not for use")
    ap.add_argument("--overwrite", action="store_true", help="replace an existing case of that name")
    ap.add_argument("--case-dir", default=str(CONF / "case"))
    ap.add_argument("--results-dir", default="results")
    ap.add_argument("--workers", type=int, default=1)
    ap.add_argument("--posterior", default=str(posterior.SAMPLE_FILE),
                    help="the six-case posterior sample everything the chat cannot tell is drawn from")
    args = ap.parse_args(argv)
    try:
        run(args)
    except ChatImportError as err:
        print(f"error: {err}", file=sys.stderr)
        return 2
    except Exception as err:   # noqa: BLE001  never print a message that could quote the chat
        where = traceback.extract_tb(err.__traceback__)[-1]
        print(f"error: internal error {type(err).__name__} at {Path(where.filename).name}:{where.lineno} "
              "(its message is not shown: it could quote the chat)", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
