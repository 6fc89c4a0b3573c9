"""Command line for randomised patrol days (issue 28): ``schedule``, ``evaluate`` and ``trials``.

Kept beside ``__main__.py`` (which only registers these parsers) so the trial's options live in one
place. ``schedule`` writes the schedule CSV, its methods sidecar (seed and design: enough to make it
again exactly), and the protocol (``<stem>.protocol.md`` and ``.pdf``) beside it, and stores the
schedule in the store under ``--name``. ``evaluate`` writes one row per hotspot plus ``pooled``, the
week-by-week delivery (``<stem>.delivery.csv``) and a sidecar with the CONSORT-style flow.
"""
from __future__ import annotations

import argparse
import json
from pathlib import Path

from hotspot_engine.errors import InputError


def _csv_bytes(frame) -> bytes:
    from hotspot_engine.write.spreadsheet import neutralise_formulas

    return neutralise_formulas(frame).to_csv(index=False).encode("utf-8")


def _require_csv(path: str, option: str = "--out") -> Path:
    out = Path(path)
    if out.suffix.lower() != ".csv":
        raise InputError(f"{option}: written as CSV; got '{out.suffix or out.name}'")
    return out


def cmd_schedule(args: argparse.Namespace) -> int:
    from hotspot_engine.analyse.trial_design import TrialDesign
    from hotspot_engine.render.trial_protocol import protocol_markdown, protocol_pdf
    from hotspot_engine.service import is_sample, open_store, trial
    from hotspot_engine.service.exports import export_meta
    from hotspot_engine.write.atomic import ensure_writable, staged_outputs
    from hotspot_engine.write.sidecar import write_sidecar

    out = _require_csv(args.out)
    ensure_writable(out, "--out")
    design = TrialDesign(start=args.start, days=args.days, patrol_share=args.patrol_share, seed=args.seed,
                         block_weeks=args.block_weeks, washout_days=args.washout_days)
    name = args.name or out.stem
    con = open_store(args.db)
    try:
        plan = trial.plan(con, args.set, design, args.compliance, args.target_rr, args.contamination)
        meta = export_meta(con, "trial schedule", plan_filters(con, plan), method="randomised patrol days",
                           params={"schedule": name, "set": plan.set_name, **plan.design.record()},
                           notes=[plan.power.line(), plan.history])
        meta.chosen = {"power": trial.power_record(plan)}
        meta.row_counts = {"schedule": len(plan.schedule)}
        stem = out.with_suffix("")
        # The files and the stored schedule land together: a name already taken leaves no files.
        with staged_outputs() as outputs:
            outputs.write_bytes(out, _csv_bytes(plan.schedule), "--out")
            write_sidecar(meta, out, outputs)
            outputs.write_text(Path(f"{stem}.protocol.md"), protocol_markdown(plan, name), "--out")
            outputs.write_bytes(Path(f"{stem}.protocol.pdf"), protocol_pdf(plan, name, is_sample(con)), "--out")
            if not args.no_store:
                trial.adopt(con, name, plan, created_by=args.by, replace_=args.replace)
    finally:
        con.close()
    counts = plan.schedule["arm"].value_counts()
    print(f"schedule '{name}' on set '{plan.set_name}': {plan.schedule['hotspot_id'].nunique()} hotspots x "
          f"{design.days} days, {counts.get('patrol', 0):,} patrol and {counts.get('control', 0):,} control days "
          f"(seed {design.seed}){'' if args.no_store else ', stored'}; wrote {out}, its sidecar and protocol")
    print(f"power: {plan.power.line()}")
    print(f"history: {plan.history}")  # what the power rests on (month-only rates: optimistic, and no evaluation)
    return 0


def plan_filters(con, plan):
    from hotspot_engine.service import sets

    adopted = sets.load(con, plan.set_name)
    return adopted.filters if adopted is not None else None


def _schedule_meta(path: Path) -> dict | None:
    from hotspot_engine.write.sidecar import sidecar_paths

    json_path = sidecar_paths(path)[0]
    if not json_path.exists():
        return None
    try:
        return json.loads(json_path.read_text(encoding="utf-8")).get("params") or {}
    except (OSError, ValueError):
        raise InputError(f"--schedule: its sidecar {json_path.name} cannot be read as JSON") from None


def _read_schedule(path: str):
    import pandas as pd

    source = Path(path)
    if not source.is_file():
        raise InputError(f"--schedule {source.name}: no such file")
    from hotspot_engine.analyse.trial_design import check_schedule

    try:
        frame = pd.read_csv(source, dtype=str, keep_default_na=False)
    except (ValueError, UnicodeDecodeError):
        raise InputError(f"--schedule {source.name}: not a readable CSV") from None
    return check_schedule(frame, f"--schedule {source.name}")


def flow_line(f: dict, min_minutes: float) -> str:
    """The trial's flow of place-days, each part adding up to its whole: the sample's line read '1,735 patrol
    (1,373 delivered, 211 not visited)', leaving out the 151 days visited for less than the dose."""
    short = f["patrol_visited"] - f["patrol_delivered"]
    return (f"flow: {f['place_days']:,} place-days; {f['patrol_days']:,} patrol ({f['patrol_delivered']:,} delivered, "
            f"{short:,} visited for less than {min_minutes:g} minutes, {f['patrol_not_visited']:,} not visited); "
            f"{f['control_days']:,} control ({f['control_contaminated']:,} visited anyway, {f['control_washout']:,} "
            "washout)")


def cmd_evaluate(args: argparse.Namespace) -> int:
    from hotspot_engine.analyse.dosage import DosageTarget
    from hotspot_engine.service import open_store, trial
    from hotspot_engine.service.exports import export_meta
    from hotspot_engine.write.atomic import ensure_writable, staged_outputs
    from hotspot_engine.write.sidecar import write_sidecar

    out = _require_csv(args.out)
    ensure_writable(out, "--out")
    schedule = _read_schedule(args.schedule)
    design = _schedule_meta(Path(args.schedule))
    filters = args.make_filters(args) if _filters_given(args) else None
    con = open_store(args.db, read_only=True)
    try:
        set_name = args.set or trial.schedule_set(con, design, schedule)
        blocks = int((design or {}).get("block_weeks") or 4)
        result = trial.evaluate(con, schedule, set_name, filters,
                                DosageTarget(min_minutes=args.min_minutes, max_minutes=max(args.min_minutes, 15)),
                                permutations=args.permutations, block_weeks=blocks)
        method = "place-day ITT, Poisson with hotspot and weekday effects, cluster-robust"
        if args.permutations:
            method += (f"; randomisation inference beside it ({args.permutations:,} re-draws inside the design's "
                       f"weekday blocks of {blocks} weeks, Mantel-Haenszel rate ratio; ri_* columns)")
        meta = export_meta(con, "trial evaluation", filters or args.make_filters(args), method=method,
                           params={"schedule": Path(args.schedule).name, "set": set_name,
                                   "design": design or "no sidecar beside the schedule",
                                   "permutations": args.permutations},
                           notes=result.notes)
    finally:
        con.close()
    meta.row_counts = {"evaluation": len(result.table), "delivery": len(result.weekly)}
    meta.chosen = {"flow": result.flow, "deterrence": result.deterrence.to_dict("records"),
                   "displacement_rate_ratio": None if result.displacement is None else result.displacement.__dict__}
    with staged_outputs() as outputs:
        outputs.write_bytes(out, _csv_bytes(result.table.round(4)), "--out")
        outputs.write_bytes(out.with_name(f"{out.stem}.delivery.csv"), _csv_bytes(result.weekly), "--out")
        write_sidecar(meta, out, outputs)
    f = result.flow
    print(result.summary_line())
    print(flow_line(f, args.min_minutes) + f"; wrote {out}")
    return 0


def _permutations(text: str) -> int:
    if not text.isdigit() or int(text) > 100_000:
        raise argparse.ArgumentTypeError("expected a whole number from 0 to 100000")
    return int(text)


def _filters_given(args: argparse.Namespace) -> bool:
    return bool(args.district or args.csp or args.offence or args.sv_only)


def cmd_trials(args: argparse.Namespace) -> int:
    from hotspot_engine.service import open_store, trial

    con = open_store(args.db, read_only=True)
    try:
        rows = trial.schedules(con)
    finally:
        con.close()
    if rows.empty:
        print("no trial schedules stored")
    for r in rows.itertuples(index=False):
        print(f"{r.name}\tset {r.set_name}\tfrom {r.start:%Y-%m-%d}\t{r.days} days\tmade {r.created_at:%Y-%m-%d %H:%M}")
    return 0


def cmd_sample_trial(args: argparse.Namespace) -> int:
    """Load the sample's randomised trial into a store (its own files, so the sample's report-year
    figures stay as they were in stores that do not ask for it)."""
    import tempfile

    from hotspot_engine.sample import write_sample
    from hotspot_engine.sample_trial import SCHEDULE_NAME, SET_NAME, TRIAL_FILES, load_trial_sample
    from hotspot_engine.service import open_store
    from hotspot_engine.store import query
    from hotspot_engine.store.database import label_sample_loads

    folder = Path(args.dir) if args.dir else None
    if folder is None or not all((folder / name).is_file() for name in TRIAL_FILES.values()):
        folder = Path(tempfile.mkdtemp(prefix="hotspot-sample-"))
        write_sample(folder)
    con = open_store(args.db)
    try:
        before = query.data_version(con)
        summaries = load_trial_sample(con, {key: folder / name for key, name in TRIAL_FILES.items()})
        label_sample_loads(con, before)  # 'Remove the sample' removes the trial's rows too
    finally:
        con.close()
    for summary in summaries:
        print(summary.line())
    print(f"hotspot set '{SET_NAME}' adopted and schedule '{SCHEDULE_NAME}' stored (2024-04-01, 183 days)")
    return 0


def add_parsers(sub, add_store, add_filters, make_filters) -> None:
    """Register schedule, evaluate and trials on the main parser's subparsers."""
    p = sub.add_parser("schedule", help="a randomised patrol/control schedule on an adopted hotspot set, its power "
                                        "and protocol")
    p.add_argument("--set", default=None, metavar="NAME", help="adopted hotspot set (default: the newest)")
    p.add_argument("--start", required=True, metavar="YYYY-MM-DD", help="first trial day")
    p.add_argument("--days", type=int, required=True, help="trial length in days")
    p.add_argument("--patrol-share", type=float, default=0.5, help="share of days on patrol (default 0.5)")
    p.add_argument("--seed", type=int, default=0, help="same seed and design, same schedule (default 0)")
    p.add_argument("--block-weeks", type=int, default=4, help="weekday blocks of this many weeks (default 4)")
    p.add_argument("--washout-days", type=int, default=0,
                   help="control days this close after a patrol day are left out of the analysis (default 0)")
    p.add_argument("--compliance", type=float, default=0.85, help="expected share of patrol days delivered (power)")
    p.add_argument("--contamination", type=float, default=0.0, help="expected share of control days visited (power)")
    p.add_argument("--target-rr", type=float, default=0.8, help="effect to plan the days for (default 0.8)")
    p.add_argument("--name", default=None, help="name the schedule is stored under (default: the file's stem)")
    p.add_argument("--by", default="", help="who adopts the schedule (stored with it)")
    p.add_argument("--replace", action="store_true", help="replace a stored schedule of the same name")
    p.add_argument("--no-store", action="store_true", help="write the files only; store nothing")
    add_store(p)
    p.add_argument("--out", required=True, metavar="FILE.csv", help="schedule CSV")
    p.set_defaults(func=cmd_schedule)

    p = sub.add_parser("evaluate", help="patrol days against control days in each scheduled hotspot (ITT)")
    p.add_argument("--schedule", required=True, metavar="FILE.csv", help="a schedule written by 'schedule'")
    p.add_argument("--set", default=None, metavar="NAME", help="the set it was made on (default: from its sidecar)")
    p.add_argument("--min-minutes", type=float, default=10, help="a delivered visit lasts at least this (default 10)")
    p.add_argument("--permutations", type=_permutations, default=0, metavar="N",
                   help="also a randomisation-inference interval and p-value from N re-draws of the schedule inside "
                        "its blocks (ri_* columns; 2000 is plenty; default 0: none)")
    add_store(p)
    add_filters(p, " (default: the set's own filters)")
    p.add_argument("--out", required=True, metavar="FILE.csv", help="results CSV")
    p.set_defaults(func=cmd_evaluate, make_filters=make_filters)

    p = sub.add_parser("sample-trial", help="load the sample's randomised patrol trial (2024-04..09) into a store")
    p.add_argument("--dir", default=None, help="a folder written by 'sample' (default: write one to a temp folder)")
    add_store(p)
    p.set_defaults(func=cmd_sample_trial)

    p = sub.add_parser("trials", help="list the stored trial schedules")
    add_store(p)
    p.set_defaults(func=cmd_trials)

