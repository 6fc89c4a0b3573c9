"""Command line: ``python -m hotspot_engine COMMAND ...`` (see the README's "Command line" section).
Every command calls the same :mod:`hotspot_engine.service` functions as the pages.

Settings: the same ``settings.toml`` as the app (``hotspot_engine.settings`` says which file) gives the
store, the harm weights, exclusions and offence map, and the partner-safe threshold; an option given
on the command line overrides it for that run.

Exit status: 0 success, 2 unusable input or arguments (one line on stderr naming the file, row or
column), 1 an internal error. Each command imports only what it needs, so start-up stays fast.
Set HOTSPOT_DEBUG=1 to see the traceback of an internal error.
"""
from __future__ import annotations

import argparse
import math
import os
import sys
from dataclasses import replace
from pathlib import Path

from hotspot_engine.errors import InputError, is_disk_full


class _Parser(argparse.ArgumentParser):
    """argparse exits 2 on bad arguments already; keep its message to one line."""

    def error(self, message: str) -> None:  # type: ignore[override]
        self.exit(2, f"{self.prog}: error: {message}\n")


def _add_store(p: argparse.ArgumentParser) -> None:
    p.add_argument("--db", default=None, help="store file (default: $HOTSPOT_DB, else [store] path of settings.toml)")


def _add_filters(p: argparse.ArgumentParser, sv_default_note: str = "") -> None:
    g = p.add_argument_group("filters")
    g.add_argument("--from", dest="date_from", metavar="YYYY-MM", help="first month (inclusive)")
    g.add_argument("--to", dest="date_to", metavar="YYYY-MM", help="last month (inclusive)")
    g.add_argument("--district", action="append", default=[], metavar="NAME", help="repeatable")
    g.add_argument("--csp", action="append", default=[], metavar="NAME", help="repeatable")
    g.add_argument("--offence", action="append", default=[], metavar="CATEGORY",
                   help="offence group code or label, repeatable (e.g. robbery, gbh, knife_injury)")
    g.add_argument("--sv-only", action="store_true", help="only the 8 serious-violence categories" + sv_default_note)
    g.add_argument("--res", type=int, default=9, help="H3 resolution 7-11 (default 9)")


def _filters(args: argparse.Namespace, sv_default: bool = False):
    from hotspot_engine.filters import Filters
    from hotspot_engine.settings import load_settings

    sv_only = args.sv_only or (sv_default and not args.offence and not getattr(args, "all_offences", False))
    return Filters(
        date_from=args.date_from, date_to=args.date_to, districts=tuple(args.district), csps=tuple(args.csp),
        offences=tuple(args.offence), sv_only=sv_only, res=args.res,
        exclude_flagged=load_settings().exclude_flagged_months,
    )


def _gibibytes(option: str, value: float) -> int:
    """A size option in GiB as bytes; nan, inf and non-positive values are refused."""
    if not math.isfinite(value) or value <= 0:
        raise InputError(f"{option}: must be a number of GiB more than 0; got {value}")
    if value > 1 << 20:
        raise InputError(f"{option}: {value:g} GiB is more than any machine holds")
    return int(value * (1 << 30))


def _check_outputs(*targets: tuple[str, str | None]) -> None:
    """Refuse unwritable outputs (a folder, a read-only place) before any work is done."""
    from hotspot_engine.write.atomic import ensure_writable

    for label, target in targets:
        if target:
            ensure_writable(target, label)


def _connect(args: argparse.Namespace, read_only: bool = False):
    from hotspot_engine.service import open_store
    from hotspot_engine.settings import load_settings

    con = open_store(args.db, read_only=read_only)
    if read_only and load_settings().exclude_flagged_months:
        from hotspot_engine.store.query import table_names

        if "quality_flags" not in table_names(con):
            con.close()
            raise InputError(f"{args.db}: this store was made before months were checked, so [quality] "
                             "exclude_flagged_months cannot leave any out: run one ingest or start the app on it")
    return con


#: Options whose default is in settings.toml: option name -> Settings field.
FROM_SETTINGS = {"db": "db_path", "harm_weights": "harm_weights", "exclusions": "exclusions",
                 "offence_map": "offence_map", "threshold": "partner_safe_threshold"}


def apply_settings(args: argparse.Namespace) -> argparse.Namespace:
    """Fill the options this command has but the command line left out from the settings file the
    app reads, so both use one store and one set of tables; a given option wins."""
    unset = [name for name in FROM_SETTINGS if name in vars(args) and getattr(args, name) is None]
    if unset:
        from hotspot_engine.settings import load_settings

        settings = load_settings()
        for name in unset:
            setattr(args, name, getattr(settings, FROM_SETTINGS[name]))
    return args


# -- commands -------------------------------------------------------------------------------------

def cmd_sample(args: argparse.Namespace) -> int:
    from hotspot_engine.sample import DEFAULT_SEED, write_sample

    if args.incidents is not None and args.incidents < 1000:
        raise InputError("--incidents: must be at least 1000")
    paths = write_sample(args.out, seed=DEFAULT_SEED if args.seed is None else args.seed, incidents=args.incidents)
    for key, path in paths.items():
        print(f"wrote {key}: {path}")
    return 0


def cmd_ingest(args: argparse.Namespace) -> int:
    from hotspot_engine.read.limits import DEFAULT_LIMITS
    from hotspot_engine.read.partners import PartnerOptions
    from hotspot_engine.service import ingest_files, ingest_streets

    limits = DEFAULT_LIMITS.with_max_file_bytes(_gibibytes("--max-gb", args.max_gb))
    if args.max_archive_gb is not None:
        limits = replace(limits, max_total_bytes=_gibibytes("--max-archive-gb", args.max_archive_gb))
    if args.name_column and args.format != "streets":
        raise InputError("--name-column: only with --format streets")
    partner = PartnerOptions(source=args.source, owner=args.owner, sharing=args.sharing)
    con = _connect(args)
    skipped: list[str] = []
    try:
        if args.format == "streets":
            summaries = ingest_streets(con, args.paths, args.name_column)
        else:
            summaries = ingest_files(con, args.paths, fmt=args.format, offence_map=args.offence_map, limits=limits,
                                     partner=partner, skipped=skipped)
        from hotspot_engine.service.quality import quality_report

        quality = quality_report(con).lines()
    finally:
        con.close()
    for line in skipped:
        print(f"note: {line}")
    for s in summaries:
        print(s.line())
        for note in s.notes:
            print(f"  note: {note}")
    for line in quality:
        print(line)
    return 0


def cmd_export(args: argparse.Namespace) -> int:
    from hotspot_engine import service
    from hotspot_engine.write import export

    filters = _filters(args)
    export.format_for(args.out)  # an unknown extension is refused before the work
    _check_outputs(("--out", args.out))
    con = _connect(args, read_only=True)
    result = None
    try:
        adopted = _adopted_set(con, args)
        if adopted is not None and args.layer in ("hotspots", "patrols"):
            from hotspot_engine.service import sets

            names = ["hotspot_cells", "hotspot_areas"] if args.layer == "hotspots" else ["patrols"]
            filters = _set_filters(args, adopted, filters)
            bundle = sets.export_layers(con, filters, names, adopted, harm_weights=args.harm_weights)
            result = sets.set_result(con, adopted, args.harm_weights, filters) if args.layer == "hotspots" else None
        elif args.layer == "hotspots":
            result = _hotspot_result(con, args, filters)
            bundle = service.export_layers(con, filters, ["hotspot_cells", "hotspot_areas"], hotspots=result, hot_only=args.hot_only)
        else:
            bundle = service.export_layers(con, filters, [args.layer], harm_weights=args.harm_weights)
        params = _params_dict(args) if adopted is None else {"set": adopted.name, **adopted.params}
        meta = service.export_meta(con, what=args.layer, filters=filters, params=params, notes=bundle.notes)
    finally:
        con.close()
    if result is not None:
        from hotspot_engine.analyse.hotspots import METHODS_TEXT

        meta.methods, meta.chosen = METHODS_TEXT, dict(result.settings)
    paths = export.write_layers(bundle.layers, args.out, meta, partner_safe=args.partner_safe, threshold=args.threshold)
    for path in paths:
        print(f"wrote {path}")
    return 0


def _adopted_set(con, args: argparse.Namespace):
    """The set named by --set (InputError naming it when there is none), or None without --set."""
    if not getattr(args, "set", None):
        return None
    from hotspot_engine.service import sets

    return sets.load(con, args.set)


def _set_filters(args: argparse.Namespace, adopted, filters):
    """With --set and no place or offence filter given, the set's own places and offences (the
    command line's months kept); the set's resolution always (its cells are at that resolution)."""
    if not (args.district or args.csp or args.offence or args.sv_only):
        filters = adopted.filters.with_(date_from=filters.date_from, date_to=filters.date_to)
    return filters.with_(res=adopted.filters.res)


def _params_dict(args: argparse.Namespace) -> dict:
    keep = ("method", "measure", "top", "alpha", "k", "permutations", "harm_share", "min_area_count", "max_area_km2",
            "intervention", "model", "validate_to")
    return {k: getattr(args, k) for k in keep if getattr(args, k, None) is not None}


def _hotspot_params(args: argparse.Namespace):
    from hotspot_engine.analyse.hotspots import HotspotParams

    return HotspotParams(
        method=getattr(args, "method", "predict"), measure=getattr(args, "measure", "count"),
        top=getattr(args, "top", 19), alpha=getattr(args, "alpha", 0.05), k=getattr(args, "k", 1),
        permutations=getattr(args, "permutations", 0), harm_share=getattr(args, "harm_share", 0.5),
        min_area_count=getattr(args, "min_area_count", None), max_area_km2=getattr(args, "max_area_km2", 1.0),
    )


def _hotspot_result(con, args: argparse.Namespace, filters, window=None):
    """Hotspots for the filters; without months, the last 12 months of data (``window``, when the
    caller has it). The areas carry what partners know about each (partner layers' counts), when
    the store holds partner data."""
    from hotspot_engine import service
    from hotspot_engine.service.partners import with_partner_columns

    window = service.default_window(con, filters) if window is None else window
    result = service.hotspots(con, window, _hotspot_params(args), harm_weights=getattr(args, "harm_weights", None),
                              exclusions_path=getattr(args, "exclusions", None),
                              serious_violence_by_default=not getattr(args, "all_offences", False))
    return with_partner_columns(con, result, window)  # what partners know about each hotspot area


def cmd_hotspots(args: argparse.Namespace) -> int:
    from hotspot_engine import service
    from hotspot_engine.analyse.hotspots import METHODS_TEXT
    from hotspot_engine.write import export

    filters = _filters(args, sv_default=True)
    export.format_for(args.out)
    _check_outputs(("--out", args.out))
    if args.replace and not args.adopt:
        raise InputError("--replace: only with --adopt NAME")
    con = _connect(args, read_only=not args.adopt)
    holdout = None
    adopted = None
    try:
        # Once: each call reads the store's extent (three scans of the incidents, 0.01 s on 1M rows).
        window = service.default_window(con, filters)
        if args.validate_to:
            result, holdout = service.validate_hotspots(
                con, window, args.validate_to, _hotspot_params(args),
                harm_weights=args.harm_weights, exclusions_path=args.exclusions,
                serious_violence_by_default=not args.all_offences)
        else:
            result = _hotspot_result(con, args, filters, window)
        meta = service.export_meta(con, what="hotspots", filters=window,
                                   params=_params_dict(args))
        names = ["hotspot_cells"] + ([] if args.out.lower().endswith((".csv", ".geojson")) else ["hotspot_areas"])
        bundle = service.export_layers(con, filters, names, hotspots=result, wkt=args.out.lower().endswith(".csv"))
        if args.adopt:
            adopted = _adopt(con, args, result, window, filters)
    finally:
        con.close()
    meta.methods = METHODS_TEXT
    meta.chosen = dict(result.settings)
    if holdout is not None:
        # The check's notes (unstored test months, a short window) qualify its summary: they go with it.
        meta.holdout = {"summary": " ".join([holdout.summary, *holdout.notes]), "window": list(holdout.window), "test": list(holdout.test),
                        "test_incidents": holdout.test_incidents, "table": holdout.table.to_dict("records"),
                        "curve": holdout.curve.to_dict("records")}
    paths = export.write_layers(bundle.layers, args.out, meta, first_at_path=True)
    for note in result.notes + (holdout.notes if holdout is not None else []):
        print(f"note: {note}", file=sys.stderr)
    print(f"{int(result.cells['is_hotspot'].sum())} hotspot cells in {len(result.areas)} hotspot areas "
          f"({len(result.next_ranked)} more next ranked) out of {len(result.cells)} cells; "
          f"wrote {', '.join(str(p) for p in paths)}")
    if holdout is not None:
        from hotspot_engine.analyse.holdout import report_lines

        print("\n".join(report_lines(holdout)))
    if adopted is not None:
        print(f"adopted set '{adopted.name}': {adopted.hotspots().shape[0]} hotspots, {len(adopted.cells)} cells, "
              f"chosen on {adopted.window()}; {adopted.chance_line()}")
    return 0


def _adopt(con, args: argparse.Namespace, result, window, filters):
    """Store the result's hotspots as the set --adopt names (exit 2 when it exists without --replace)."""
    import getpass
    from dataclasses import asdict

    from hotspot_engine.service import sets

    try:
        user = getpass.getuser()
    except (KeyError, OSError):
        user = "unknown"
    return sets.adopt(con, args.adopt, result, window, asdict(result.params), filters,
                      adopted_by=f"command line ({user})", note=args.note or "", replace=args.replace)


def cmd_sets(args: argparse.Namespace) -> int:
    """One line per adopted set, newest first: name, adopted at, window, hotspots, cells."""
    from hotspot_engine.service import sets

    con = _connect(args, read_only=True)
    try:
        listing = sets.list_sets(con)
    finally:
        con.close()
    if listing.empty:
        print("no hotspot sets adopted yet; adopt one with 'hotspots --adopt NAME'")
        return 0
    for row in listing.itertuples(index=False):
        print(f"{row.name}  adopted {row.adopted_at:%Y-%m-%d %H:%M} UTC  window {row.window_from} to "
              f"{row.window_to}  {int(row.hotspots)} hotspots  {int(row.cells)} cells")
    return 0


def cmd_impact(args: argparse.Namespace) -> int:
    from hotspot_engine.service import export_meta, impact

    filters = _filters(args, sv_default=True)
    if Path(args.out).suffix.lower() != ".csv":
        raise InputError(f"--out: impact writes CSV; got '{Path(args.out).suffix or Path(args.out).name}'")
    _check_outputs(("--out", args.out))
    if args.set and (args.hotspots or args.selection_window):
        raise InputError("--set: the set gives the hotspots and their selection window; drop --hotspots and --selection-window")
    con = _connect(args, read_only=True)
    try:
        adopted = _adopted_set(con, args)
        if adopted is not None:
            filters = _set_filters(args, adopted, filters)
        result = impact(con, filters, intervention=args.intervention, hotspots_file=args.hotspots,
                                  model=args.model, buffer_k=args.buffer_k, params=_hotspot_params(args),
                                  harm_weights=args.harm_weights, exclusions_path=args.exclusions,
                                  period=args.period, selection_window=_selection_window(args.selection_window),
                                  placebo=args.placebo, hotspot_set=adopted)
        table, notes = result.table, result.notes + [placebo_line(run) for run in result.placebo]
        meta = export_meta(con, what="impact", filters=filters, method="interrupted time series",
                           params={"intervention": args.intervention, "model": args.model,
                                   **({"set": adopted.name} if adopted is not None else {}),
                                   "selection_window": " to ".join(result.selection_window),
                                   "period": args.period, "buffer_k": args.buffer_k},
                           notes=notes + list(IMPACT_REFERENCES))
    finally:
        con.close()
    from hotspot_engine.analyse.impact import published_table
    from hotspot_engine.write.atomic import staged_outputs
    from hotspot_engine.write.export import neutralise_formulas, write_sidecar

    out = Path(args.out)
    meta.row_counts = {"impact": len(table)}  # the sidecar's "Layers written:" had been left empty
    # The table and its methods sidecar appear together, or not at all.
    with staged_outputs() as outputs:
        outputs.write_bytes(out, neutralise_formulas(published_table(table)).to_csv(index=False).encode("utf-8"), "--out")
        write_sidecar(meta, out, outputs)
    for note in notes:
        print(f"note: {note}", file=sys.stderr)
    pooled = table[table["hotspot_id"] == "pooled"]
    if not pooled.empty:
        print(f"{pooled_summary(pooled.iloc[0])}; wrote {out}")
    return 0


IMPACT_REFERENCES = (
    "Reference: Lopez Bernal, Cummins & Gasparrini (2017), Interrupted time series regression for the evaluation "
    "of public health interventions: a tutorial, IJE 46(1):348-355 (segmented regression).",
    "Reference: Kiefer & Vogelsang (2005), A new asymptotic theory for heteroskedasticity-autocorrelation robust "
    "tests, Econometric Theory 21(6):1130-1164 (fixed-b critical values, here simulated for the model's design).",
    "Reference: Hauer (1997), Observational Before-After Studies in Road Safety, and Persaud & Lyon (2007), "
    "Accident Analysis & Prevention 39(3):546-555 (regression to the mean in treated sites; baseline free of the "
    "selection period, comparison sites, placebo runs).",
    "Reference: DerSimonian & Laird (1986), Controlled Clinical Trials 7:177-188; Hartung & Knapp (2001), "
    "Statistics in Medicine 20:3875-3889 (random-effects pooling).",
    "Reference: Bowers & Johnson (2003), J Quant Criminol 19(3):275-301 (WDQ); Guerette & Bowers (2009), "
    "Criminology 47(4):1331-1368 (Total Net Effect).",
)


def _selection_window(text: str | None) -> tuple[str, str] | None:
    """'YYYY-MM:YYYY-MM' -> (first, last); None when not given."""
    from hotspot_engine.filters import parse_month

    if not text:
        return None
    first, sep, last = text.partition(":")
    if not sep:
        raise InputError(f"--selection-window: expected YYYY-MM:YYYY-MM, got '{text}'")
    return parse_month(first, "--selection-window"), parse_month(last, "--selection-window")


def _pct_or_reason(value: float, low: float, high: float, reason: str) -> str:
    if value == value and low == low and high == high:
        return f"{value:+.1f}% (95% interval {low:+.1f}% to {high:+.1f}%)"
    return f"not estimable ({reason or 'too little data'})"


def pooled_summary(r) -> str:
    """One line: the corrected estimate first, then the uncorrected ITS and the plain before/after."""
    # The pooled message ends with the summed series' own reason: the uncorrected figure gives that one,
    # not the corrected estimate's (which it had repeated).
    reason, _, summed = str(r.get("message", "")).partition("; summed series: ")
    simple = f"{r['simple_change_pct']:+.1f}%" if r["simple_change_pct"] == r["simple_change_pct"] else "not estimable"
    return (f"pooled: corrected for regression to the mean {_pct_or_reason(r['corrected_change_pct'], r['corrected_ci_low_pct'], r['corrected_ci_high_pct'], reason)}; "
            f"uncorrected ITS {_pct_or_reason(r['its_change_pct'], r['ci_low_pct'], r['ci_high_pct'], summed or reason)}; "
            f"plain before/after {simple}")


def placebo_line(run) -> str:
    """One note per placebo run: the corrected estimate where nothing happened should be about 0."""
    if run.message and run.corrected_pct != run.corrected_pct:
        return f"placebo at {run.pseudo_date}: {run.message}"
    return (f"placebo at {run.pseudo_date} (hotspots chosen on {run.selection_window}, no intervention): corrected "
            f"{run.corrected_pct:+.1f}% ({run.corrected_low:+.1f}% to {run.corrected_high:+.1f}%), uncorrected ITS "
            f"{run.uncorrected_pct:+.1f}%, plain before/after {run.simple_pct:+.1f}%")


def cmd_patrol_plan(args: argparse.Namespace) -> int:
    """Dosage per hotspot for the months given and a seeded plan for the week after (CSV, PDF)."""
    from datetime import date

    from hotspot_engine.analyse.patrols import (
        DosageTarget,
        briefing_pdf,
        plan_csv,
        suggest_plan,
    )
    from hotspot_engine.service import exports, patrol_report, trial
    from hotspot_engine.write.atomic import staged_outputs
    from hotspot_engine.write.export import neutralise_formulas

    filters = _filters(args, sv_default=True)
    try:
        week = date.fromisoformat(args.week_start) if args.week_start else None
    except ValueError:
        raise InputError(f"--week-start: expected YYYY-MM-DD, got '{args.week_start}'") from None
    target = DosageTarget(visits=args.visits, per=args.per, days_per_week=args.days_per_week,
                          min_minutes=args.min_minutes, max_minutes=args.max_minutes,
                          name=(DosageTarget().name if (args.visits, args.per, args.days_per_week, args.min_minutes,
                                                        args.max_minutes) == (1, "day", 7, 10, 20) else "your own target"))
    if Path(args.out).suffix.lower() != ".csv":
        raise InputError(f"--out: the plan is written as CSV; got '{Path(args.out).suffix or Path(args.out).name}'")
    _check_outputs(("--out", args.out), ("--dosage", args.dosage), ("--briefing", args.briefing))
    con = _connect(args, read_only=True)
    try:
        adopted = _adopted_set(con, args)
        if adopted is not None:
            from hotspot_engine.service import sets

            if not (filters.date_from or filters.date_to):  # the set's window, as every page and output
                window = sets.store_set_window(con, adopted)
                filters = filters.with_(date_from=window.date_from, date_to=window.date_to)
            report = sets.patrol_report(con, _set_filters(args, adopted, filters), adopted, target,
                                        harm_weights=args.harm_weights)
            if not (args.date_from or args.date_to):
                report.notes.append(f"Figures over the set's window: {window.label}.")
        else:
            report = patrol_report(con, filters, target, params=_hotspot_params(args),
                                   harm_weights=args.harm_weights, exclusions_path=args.exclusions)
        plan = suggest_plan(report, week_start=week, seed=args.seed, extra_visits=args.extra_visits)
        plan = trial.follow_stored(con, plan)  # a stored trial schedule's control days: no dedicated patrol
        context = (exports.store_context(con, exports.report_window(filters, report.period),
                                         adopted.name if adopted is not None else None) if args.briefing else None)
    finally:
        con.close()
    out = Path(args.out)
    # Every file is made first and all appear together: a briefing that fails leaves no plan behind.
    with staged_outputs() as outputs:
        written = [outputs.write_bytes(out, plan_csv(plan), "--out")]
        if args.dosage:
            dosage = neutralise_formulas(report.dosage).to_csv(index=False).encode("utf-8")
            written.append(outputs.write_bytes(args.dosage, dosage, "--dosage"))
        if args.briefing:
            written.append(outputs.write_bytes(args.briefing, briefing_pdf(report, plan, context=context),
                                                "--briefing"))
    for note in report.notes + plan.notes:
        print(f"note: {note}", file=sys.stderr)
    s = report.summary
    status = ("no patrol data loaded, so no dosage status" if s.get("no_patrol_data") else
              f"{s['hotspots_green']} green, {s['hotspots_amber']} amber, {s['hotspots_red']} red")
    print(f"{s['patrols']:,} patrols, {s['patrols_in_hotspots']:,} in {s['hotspots']} hotspots; {status}; plan of "
          f"{len(plan.visits)} visits from {plan.week_start} (seed {plan.seed}); wrote {', '.join(map(str, written))}")
    return 0


def cmd_partners(args: argparse.Namespace) -> int:
    """Per LSOA: a partner layer's counts against police-recorded violence, with funnel flags."""
    from hotspot_engine import service
    from hotspot_engine.service import partners
    from hotspot_engine.write import export

    filters = _filters(args)
    con = _connect(args, read_only=True)
    try:
        compared = partners.funnel(con, args.source, filters)
        meta = service.export_meta(con, what="partners", filters=compared.filters, params={"source": args.source},
                                   notes=compared.notes)
    finally:
        con.close()
    result, window = compared.result, compared.filters
    paths = export.write_layers({"partners": result.table}, args.out, meta, partner_safe=args.partner_safe,
                                threshold=args.threshold)
    for note in result.notes:
        print(f"note: {note}", file=sys.stderr)
    flags = result.flag_counts()
    print(f"{len(result.table)} LSOAs, {window.date_from} to {window.date_to}: {flags['higher']} higher and "
          f"{flags['lower']} lower than police data suggests (99.8% limits); wrote {', '.join(map(str, paths))}")
    return 0


# -- parser ---------------------------------------------------------------------------------------

def _add_ingest(sub) -> None:
    """The ingest command's options (formats, limits, partner layers)."""
    p = sub.add_parser("ingest", help="load incident, patrol or GPS files into the store")
    p.add_argument("paths", nargs="+", help="files, folders (recursed) or .zip files")
    _add_store(p)
    p.add_argument("--format", choices=["police-uk", "incidents", "patrols", "gps", "streets", "partner-areas",
                                        "partner-events", "partner-places"], default=None,
                   help="skip detection from the header; 'streets' loads a street line layer (.gpkg, .geojson, .shp)")
    p.add_argument("--name-column", default=None,
                   help="streets: the street-name column (default: name1 for OS Open Roads, name for OpenStreetMap)")
    p.add_argument("--source", default=None, help="partner files: the layer's name (default: the file name)")
    p.add_argument("--owner", default=None, help="partner files: the agency that owns the data")
    p.add_argument("--sharing", choices=["open", "partnership", "restricted"], default=None,
                   help="partner files: sharing level (default: the file's 'sharing' column, else restricted)")
    p.add_argument("--offence-map", default=None,
                   help="CSV mapping HO codes / offence text to groups (default: settings.toml [hotspots])")
    p.add_argument("--max-gb", type=float, default=1.0,
                   help="refuse files (and zip members) larger than this many GiB (default 1; large CSVs stream)")
    p.add_argument("--max-archive-gb", type=float, default=None,
                   help="refuse a zip once its members unpack to more than this many GiB in all (default 4)")
    p.set_defaults(func=cmd_ingest)


def _add_patrol_plan(sub) -> None:
    """The patrol-plan command's options (target, plan, extra outputs)."""
    p = sub.add_parser("patrol-plan", help="patrol dosage per hotspot and a seeded plan for the following week")
    _add_store(p)
    _add_hotspot_options(p)
    _add_filters(p, " (the default unless --offence is given)")
    p.add_argument("--seed", type=int, default=0, help="same seed, same plan (default 0)")
    p.add_argument("--week-start", default=None, metavar="YYYY-MM-DD", help="first day (default: Monday after --to)")
    p.add_argument("--extra-visits", type=int, default=None, help="visits beyond the target (default: half as many)")
    p.add_argument("--visits", "--visits-per-day", dest="visits", type=int, default=1,
                   help="target visits per hotspot each day (or each shift with --per shift; default 1)")
    p.add_argument("--per", choices=["day", "shift"], default="day",
                   help="count the target per day or per 8-hour shift (07-15, 15-23, 23-07)")
    p.add_argument("--days-per-week", type=int, default=7, help="days a week each hotspot needs the target (default 7)")
    p.add_argument("--min-minutes", type=float, default=10, help="shortest visit that counts (default 10; Koper 1995 on stop length)")
    p.add_argument("--max-minutes", type=float, default=20,
                   help="longest visit the plan counts as in the band (default 20: a 15-minute visit as in UK trials)")
    _add_set_option(p)
    p.add_argument("--dosage", default=None, metavar="FILE.csv", help="also write the dosage table")
    p.add_argument("--briefing", default=None, metavar="FILE.pdf", help="also write the briefing, a page per hotspot")
    p.add_argument("--out", required=True, help="plan CSV")
    p.set_defaults(func=cmd_patrol_plan)


def build_parser() -> argparse.ArgumentParser:
    parser = _Parser(prog="python -m hotspot_engine", description="Serious-violence hotspots, patrols and impact.")
    sub = parser.add_subparsers(dest="command", required=True, parser_class=_Parser)

    p = sub.add_parser("sample", help="write the built-in synthetic sample (incidents, patrols, truth.json)")
    p.add_argument("--out", required=True, help="output folder")
    p.add_argument("--seed", type=int, default=None, help="random seed (default: the app's sample)")
    p.add_argument("--incidents", type=int, default=None, help="scale the number of incidents (benchmarks)")
    p.set_defaults(func=cmd_sample)

    _add_ingest(sub)
    from hotspot_engine.cli_trial import add_parsers as add_trial_parsers

    add_trial_parsers(sub, _add_store, _add_filters, _filters)

    p = sub.add_parser("export", help="write a filtered layer as CSV, GeoJSON, GeoPackage or GeoParquet")
    p.add_argument("layer", choices=["incidents", "hotspots", "patrols"])
    _add_store(p)
    _add_filters(p)
    _add_hotspot_options(p)
    p.add_argument("--partner-safe", action="store_true", help="drop incident rows and suppress small counts")
    p.add_argument("--threshold", type=int, default=None,
                   help="partner-safe suppression threshold (default: settings.toml [export], 5)")
    p.add_argument("--hot-only", action="store_true",
                   help="hotspots: the cells layer holds only the hotspot cells (default: every scored study cell)")
    _add_set_option(p)
    p.add_argument("--out", required=True, help="output file; the extension picks the format")
    p.set_defaults(func=cmd_export)

    p = sub.add_parser("hotspots", help="score every H3 cell of the study area and select hotspots")
    _add_store(p)
    _add_hotspot_options(p)
    _add_filters(p, " (the default unless --offence or --all-offences is given)")
    p.add_argument("--all-offences", action="store_true", help="count every offence, not just serious violence")
    p.add_argument("--validate-to", default=None, metavar="YYYY-MM",
                   help="hold-out check: choose on the window, score on the months after it up to this one, beside "
                        "ranking cells by count at the same area (hit rate, area share, PAI)")
    p.add_argument("--adopt", default=None, metavar="NAME",
                   help="store the hotspots as the set NAME (never changed afterwards; see 'sets')")
    p.add_argument("--replace", action="store_true", help="with --adopt: replace a set of the same name")
    p.add_argument("--note", default=None, help="with --adopt: a note kept with the set")
    p.add_argument("--out", required=True, help="output file (.csv, .geojson, .gpkg, .parquet)")
    p.set_defaults(func=cmd_hotspots)

    p = sub.add_parser("sets", help="list the adopted hotspot sets: name, adopted at, window, hotspots, cells")
    _add_store(p)
    p.set_defaults(func=cmd_sets)

    p = sub.add_parser("impact", help="interrupted time-series impact per hotspot and pooled")
    _add_store(p)
    p.add_argument("--intervention", required=True, metavar="YYYY-MM-DD", help="date the patrols started")
    p.add_argument("--hotspots", default=None, help="a file written by 'hotspots' (any of its formats)")
    p.add_argument("--model", choices=["negbin", "poisson"], default="negbin")
    p.add_argument("--buffer-k", type=int, default=1, help="displacement buffer: k-ring around each hotspot")
    p.add_argument("--selection-window", default=None, metavar="YYYY-MM:YYYY-MM",
                   help="months the hotspots were chosen on (default: read from the --hotspots file's methods "
                        "sidecar, or the 12 months before the intervention)")
    p.add_argument("--placebo", action="store_true",
                   help="also run the evaluation at pseudo-intervention dates 12 and 24 months earlier (notes)")
    p.add_argument("--period", choices=["month", "week"], default="month",
                   help="series of monthly (default) or weekly counts; weeks need a time of offence on at least "
                        "95%% of incidents (not police.uk data)")
    _add_hotspot_options(p)
    _add_filters(p, " (the default unless --offence or --all-offences is given)")
    p.add_argument("--all-offences", action="store_true", help="count every offence, not just serious violence")
    _add_set_option(p)
    p.add_argument("--out", required=True, help="output CSV")
    p.set_defaults(func=cmd_impact)
    _add_patrol_plan(sub)
    p = sub.add_parser("partners", help="partner counts per LSOA against police-recorded violence (funnel plot)")
    _add_store(p)
    p.add_argument("--source", required=True, help="the partner layer (an area-count or event layer)")
    _add_filters(p)
    p.add_argument("--partner-safe", action="store_true", help="suppress small counts (and what reveals them)")
    p.add_argument("--threshold", type=int, default=None,
                   help="partner-safe suppression threshold (default: settings.toml [export], 5)")
    p.add_argument("--out", required=True, help="output file (.csv, .xlsx, ...)")
    p.set_defaults(func=cmd_partners)
    return parser


def _add_set_option(p: argparse.ArgumentParser) -> None:
    p.add_argument("--set", default=None, metavar="NAME",
                   help="work on the adopted hotspot set NAME (its ids, numbers, names and cells; see 'sets') "
                        "instead of recomputing the hotspots")


def _add_hotspot_options(p: argparse.ArgumentParser) -> None:
    g = p.add_argument_group("hotspot method")
    g.add_argument("--method", choices=["predict", "gistar", "top-n", "harm-share"], default="predict",
                   help="predict (default): places of the cells with the highest predicted rate (empirical-Bayes "
                        "shrinkage towards the surroundings); gistar: significant neighbourhoods grown into areas")
    g.add_argument("--measure", choices=["count", "harm"], default="count")
    g.add_argument("--top", type=int, default=19,
                   help="hotspot areas for predict and gistar (the rest are listed as next ranked), cells for top-n (default 19)")
    g.add_argument("--harm-share", type=float, default=0.5, help="share of harm for harm-share (default 0.5)")
    g.add_argument("--alpha", type=float, default=0.05,
                   help="false discovery rate for gistar's exact neighbourhood test (default 0.05)")
    g.add_argument("--k", type=int, default=1, help="neighbourhood: k-ring (default 1)")
    g.add_argument("--permutations", type=int, default=0,
                   help="use Gi* conditional-permutation pseudo p instead of the exact test (e.g. 999)")
    g.add_argument("--max-area-km2", type=float, default=1.0,
                   help="largest hotspot area; busier regions are split at their peaks (default 1 km2)")
    g.add_argument("--min-area-count", type=int, default=None,
                   help="leave out hotspot areas with fewer incidents in the window (default 0 for predict, 5 for gistar)")
    g.add_argument("--harm-weights", default=None,
                   help="CSV of harm weights by offence group (default: settings.toml [hotspots], else the shipped table)")
    g.add_argument("--exclusions", default=None,
                   help="CSV exclusion list of unreal places (default: settings.toml [hotspots], else the shipped list)")


def main(argv: list[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    try:
        return int(args.func(apply_settings(args)) or 0)
    except InputError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print("interrupted", file=sys.stderr)
        return 130
    except Exception as exc:  # an internal error: one line, never incident data
        if is_disk_full(exc):  # the store's disk (DuckDB raises its own types): the user can fix it
            print(f"error: {Path(getattr(args, 'db', None) or 'the store').name}: cannot write (no space left on the "
                  "disk); free some space and run the command again", file=sys.stderr)
            return 2
        if os.environ.get("HOTSPOT_DEBUG"):
            raise
        from hotspot_engine.errorlog import record_error

        # Only the type: an exception's text can carry row values or server paths. The log gets the
        # type and the frames (file, line, function), never values or the message.
        where = record_error(exc)
        logged = f"recorded in {where}" if where else "not recorded: the error log could not be written"
        print(f"internal error: {type(exc).__name__}, {logged} (set HOTSPOT_DEBUG=1 for details)", file=sys.stderr)
        return 1


def exit_now(code: int) -> None:
    """End the process with ``code`` once its output is flushed, skipping the interpreter's
    teardown. Every command has closed its store and renamed its files into place by then; the
    teardown only freed memory object by object: 0.2 s of the 2.3 s of CPU `hotspots` used on a
    1M-incident store (measured with /usr/bin/time against time.process_time at the end of main)."""
    for stream in (sys.stdout, sys.stderr):
        try:
            stream.flush()
        except (OSError, ValueError):  # a closed pipe (`| head`): nothing more can be written anyway
            pass
    os._exit(code)


def keep_small_pages() -> None:
    """Keep this process on 4 kB pages: no transparent huge pages for any allocator in it. Arrow's
    mimalloc advises huge pages for its 1 GiB arena (one ``madvise(MADV_HUGEPAGE)``, seen with strace)
    and numpy for its arrays of 4 MB or more; where the kernel then zeroes, and may compact memory
    for, each 2 MB page on its first touch (THP "madvise" with defrag "madvise", as on this machine),
    those faults cost more than they save in a run of a second or two. ``prctl(PR_SET_THP_DISABLE)``
    turns them off for the whole process (Linux; elsewhere nothing happens) and
    NUMPY_MADVISE_HUGEPAGE=0 (numpy's own switch, read at numpy's import; a value the user set wins)
    stays for kernels without it. On the 1M store, 5 interleaved rounds of `hotspots` (/usr/bin/time,
    load 0.7-0.8, 7 December 2026): system time 0.23-0.26 s against 0.28-0.70 s (mean 0.25 against
    0.58), user time the same (1.13 against 1.17 s), wall 1.36 against 1.73 s; faults 91-95k of 4 kB
    against 60-64k. The command line only: the app imports numpy first."""
    os.environ.setdefault("NUMPY_MADVISE_HUGEPAGE", "0")
    if sys.platform.startswith("linux"):
        try:
            import ctypes

            ctypes.CDLL(None, use_errno=True).prctl(41, 1, 0, 0, 0)  # PR_SET_THP_DISABLE
        except (OSError, AttributeError):
            pass  # no prctl: the pages stay as the kernel chooses


def one_blas_thread() -> None:
    """Start OpenBLAS with one thread (OPENBLAS_NUM_THREADS=1, read when the library loads) unless the
    user set a thread count. numpy and scipy.special each load their own OpenBLAS, and each starts a
    worker per core that busy-waits for work for about a tenth of a second: in a `hotspots` run,
    perf put 7% of the samples (about 0.1 s of CPU) in ``blas_thread_server`` of the two libraries,
    while no BLAS routine ran. The engine's linear algebra is on small matrices, where threads do not
    pay. 5 interleaved pairs on the 1M store (load 0.8, 7 December 2026): user time 1.04-1.14 s
    against 1.24-1.36 s, every pair lower; the output is byte-identical."""
    if not any(os.environ.get(k) for k in ("OPENBLAS_NUM_THREADS", "GOTO_NUM_THREADS", "OMP_NUM_THREADS")):
        os.environ["OPENBLAS_NUM_THREADS"] = "1"


if __name__ == "__main__":
    keep_small_pages()
    one_blas_thread()
    exit_now(main())
