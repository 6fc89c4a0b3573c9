"""The analyses a user asks for, read from the store: hotspots, space-time patterns, the headline
figures, patrol dosage and plan, impact. Each takes a DuckDB connection and a
:class:`~hotspot_engine.filters.Filters` value, queries the store, and hands frames to the pure
functions in :mod:`hotspot_engine.analyse` (moved here from those modules so that they stay
frames-in, frames-out and this layer is the only reader of the store)."""
from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import replace
from pathlib import Path
from typing import TYPE_CHECKING

import h3
import numpy as np
import pandas as pd

from hotspot_engine.analyse.headline import Headline, latest_complete_fy
from hotspot_engine.analyse.holdout import Holdout, holdout_scores
from hotspot_engine.analyse.hotspots import (
    DEFAULT_WINDOW_MONTHS,
    HotspotParams,
    HotspotResult,
    advise,
    cell_totals,
    load_exclusions,
    months_in_window,
    offence_default,
    score_cells,
)
from hotspot_engine.analyse.patterns import emerging_hotspots, period_coverage, periodise, window_months
from hotspot_engine.analyse.predict import CellHistory, CellKernelDensity
from hotspot_engine.errors import InputError
from hotspot_engine.filters import Filters, months_between, parse_month, shift_month
from hotspot_engine.reference import geography
from hotspot_engine.service.quality import force_gaps, held_months, no_data_words
from hotspot_engine.store import query

# impact and evaluation import scipy.optimize and statsmodels: only `impact` needs them. Patrols
# (dosage, plans, briefings) are imported by the two functions that use them: 0.05 s of CPU that
# `hotspots` paid at start-up for nothing.
if TYPE_CHECKING:
    from hotspot_engine.analyse.evaluation import PlaceboRun
    from hotspot_engine.analyse.impact import ImpactResult
    from hotspot_engine.analyse.patrols import DosageTarget, PatrolPlan, PatrolReport

# -- hotspots ---------------------------------------------------------------------------------------


def resolve_window(con, filters: Filters, months: int = DEFAULT_WINDOW_MONTHS) -> tuple[Filters, str | None]:
    """The filters with a start month: when none is given, the ``months`` months ending at
    ``date_to`` (or at the last month in the store). Returns the filters and a note, or None."""
    if filters.date_from:
        return filters, None
    last = filters.date_to
    if not last:
        last = query.extent(con).last_month
        if not last:
            return filters, None
    first = shift_month(last, -(months - 1))
    # Without a store (con None: only the window's arithmetic is asked for) every month counts as held.
    held = len(set(months_between(first, last)) & query.stored_months(con)) if con is not None else months
    return replace(filters, date_from=first, date_to=last), (
        f"Window: {first} to {last} (the {months} months up to the {'chosen' if filters.date_to else 'latest'} month"
        + (f"; only {held} of them are stored)." if held < months else ").")
    )


def hotspots(con, filters: Filters, params: HotspotParams = HotspotParams(), harm_weights=None,
             exclusions_path=None, serious_violence_by_default: bool = True) -> HotspotResult:
    """Hotspots for the filters from the store: study area (zeros included) + cell-month counts
    (the dispersion is estimated from the months), patrols and every (cell, location) pair (for the
    names) over the same window -> :func:`score_cells`, then the resolution and window advice.

    Without a start month the window is the 12 months up to ``date_to`` (or the latest month).
    Without an offence filter, serious violence only is counted (these are serious-violence
    hotspots) unless ``serious_violence_by_default`` is False. Both choices are stated in ``notes``.

    A force of the store that holds only some of the window's months (Cleveland 2021 with Durham
    from 2021-10) has its places judged on the months it holds (:func:`service.quality.force_gaps`,
    the engine's ``gaps``): its unstored months are no data, not zero incidents, and a note names it.
    """
    filters, window_note = resolve_window(con, filters)
    lead = [window_note] if window_note else [f"Window: {filters.period()}."]
    filters, offence_note = offence_default(filters, serious_violence_by_default)
    if offence_note:
        lead.append(offence_note)
    area = geography.study_area(filters.res, filters.districts, filters.csps)
    months = query.cell_month_counts(con, filters, harm_weights)
    patrols = query.patrol_cell_counts(con, filters)
    locations = query.cell_locations(con, filters)
    # Every offence in the window, for the prediction's prior (analyse/predict.py: Shrinkage); only
    # the predict method ranks by it, and with no offence selected there is nothing else to count.
    context = (query.cell_incidents(con, filters.with_(offences=(), sv_only=False))
               if params.method == "predict" and (filters.offences or filters.sv_only) else None)
    coverage = force_gaps(con, filters)
    result = score_cells(area.cells, cell_totals(months), patrols, None, params, load_exclusions(exclusions_path),
                         cell_months=months, locations=locations, context=context, gaps=coverage.gaps)
    districts = set(area.cells["district"])
    result.notes[:0] = lead + [line + "." for line in coverage.lines(districts)]
    held = {force: n for force, (n, _) in coverage.short_forces(districts).items()}
    result.settings.update(advise(result, filters, months["month"].nunique() if len(months) else 0, held))
    result.notes.append(result.settings["advice"])
    return result


def validate_hotspots(con, filters: Filters, validate_to: str, params: HotspotParams = HotspotParams(),
                      harm_weights=None, exclusions_path=None,
                      serious_violence_by_default: bool = True) -> tuple[HotspotResult, Holdout]:
    """Hold-out check: hotspots chosen on the filters' window, scored on the months after it up to
    ``validate_to`` ('YYYY-MM'), beside the plain count ranking at the same area
    (:func:`~hotspot_engine.analyse.holdout.holdout_scores`)."""
    filters, _ = resolve_window(con, filters)
    if not filters.date_to:
        raise InputError("--validate-to: the store holds no incidents to choose hotspots on")
    validate_to = parse_month(validate_to, "--validate-to")
    first = shift_month(filters.date_to, 1)
    if validate_to < first:
        raise InputError(f"--validate-to: must be after the window's last month ({filters.date_to})")
    # Unstored test months are no data, not months without incidents: on the real store a check to
    # 2024-06 scored hotspots on two months it does not hold ("nothing to score (no incidents)", PAI nan,
    # exit 0), and one from 2018-03 to 2024-04 read 73 test months where 4 are stored.
    tested = months_between(first, validate_to)
    held = len(set(tested) & query.stored_months(con))
    if not held:
        raise InputError(f"hold-out check: none of the test months {first} to {validate_to} is in the store; "
                         "load them, or end the check at a stored month")
    test_filters, _ = offence_default(replace(filters, date_from=first, date_to=validate_to), serious_violence_by_default)
    result = hotspots(con, filters, params, harm_weights, exclusions_path, serious_violence_by_default)
    cells, lacking = _scored_cells(result, force_gaps(con, test_filters))
    months = query.cell_month_counts(con, test_filters, harm_weights)
    test = pd.DataFrame({"h3": geography.cell_to_str(months["h3"].to_numpy(dtype=np.uint64)),
                         "month": months["month"].astype(str).to_numpy(), "count": months["count"].to_numpy()})
    ids = np.fromiter((int(c, 16) for c in cells["h3"]), dtype=np.uint64, count=len(cells))
    kernel = CellKernelDensity()
    chosen_counts = cells["count"].to_numpy(dtype=float)[:, None]
    holdout = holdout_scores(cells, test.drop(columns="month"), (filters.date_from or "", filters.date_to),
                             (first, validate_to), float(h3.average_hexagon_area(filters.res, "km^2")), params.measure,
                             baselines={kernel.name: kernel.predict(CellHistory(ids, chosen_counts))}, test_months=test)
    holdout.notes.extend(lacking)
    if held < len(tested):
        holdout.notes.append(f"Scored on the {held} of the {len(tested)} test months {first} to {validate_to} that the "
                             "store holds; the others are not in the store (no data, not zero incidents).")
    have, length = result.settings.get("months_with_data", 0), result.settings.get("window_months", 0)
    if have < length:
        holdout.notes.append(f"The hotspots were chosen on {length} months of which only {have} hold data: the check "
                             "shows how well that much history predicts, not how well a full window would.")
    return result, holdout


def _scored_cells(result: HotspotResult, test_gaps) -> tuple[pd.DataFrame, list[str]]:
    """The cells a hold-out check scores, and a note: the places of a force that lacks a test month
    another force holds are left out (no data is not a miss), and where the hotspots were chosen on
    months a force lacked, the count ranking baseline ranks each cell's count a month held times the
    window's months, as the hotspots did, so neither side reads unstored months as zeros."""
    cells, notes = result.cells, []
    exposure = result.exposure
    if exposure is not None and ((exposure > 0) & (exposure < exposure.max())).any():
        scale = np.divide(exposure.max(), exposure, out=np.zeros_like(exposure), where=exposure > 0)
        cells = cells.assign(count=cells["count"].to_numpy(dtype=float) * scale, harm=cells["harm"].to_numpy(dtype=float) * scale)
        notes.append("The count ranking ranks each cell's count a month its force holds (some forces hold fewer of the "
                     "window's months); the counts shown elsewhere are as recorded.")
    if len(test_gaps.gaps):
        lacking = sorted(test_gaps.months)
        cells = cells[~cells["district"].isin(set(test_gaps.gaps["district"]))]
        if not len(cells):
            raise InputError("hold-out check: every selected place lies in a force that lacks some of the test months; "
                             "end the check at a month its force holds")
        notes.append(f"The places of {', '.join(lacking)} are left out of the check: {'it holds' if len(lacking) == 1 else 'they hold'} "
                     "no data for some test months that other forces hold (no data, not zero incidents).")
    return cells, notes


def validate_recent(con, window: Filters, test_months: int = 3, params: HotspotParams = HotspotParams(),
                    harm_weights=None, exclusions_path=None) -> tuple[HotspotResult, Holdout]:
    """The hold-out check the Hotspot map page shows for its window: hotspots chosen on a window of
    the same length ending ``test_months`` before the window's end, scored on those last months
    (which the choice never saw)."""
    filters, _ = resolve_window(con, window)
    if not filters.date_to or not filters.date_from:
        raise InputError("hold-out check: the store holds no incidents")
    if not 1 <= int(test_months) <= 12:
        raise InputError(f"hold-out months: must be between 1 and 12, got {test_months}")
    length = months_in_window(filters.date_from, filters.date_to)
    last_chosen = shift_month(filters.date_to, -int(test_months))
    chosen = replace(filters, date_from=shift_month(last_chosen, -(length - 1)), date_to=last_chosen)
    return validate_hotspots(con, chosen, filters.date_to, params, harm_weights, exclusions_path)


def default_window(con, filters: Filters) -> Filters:
    """The command line's hotspot window: the last 12 months of data when no month is given."""
    if filters.date_from or filters.date_to:
        return filters
    last = query.extent(con).last_month
    if last is None:
        raise InputError("the store holds no incidents; run 'ingest' or 'sample' first")
    return filters.with_(date_from=shift_month(last, -11), date_to=last)


def patterns(con, filters: Filters, by: str = "fy", measure: str = "count", k: int = 1, alpha: float = 0.05,
             harm_weights=None, serious_violence_by_default: bool = True) -> pd.DataFrame:
    """Emerging hot spot patterns from the store: study area of the filters, per-period values from
    ``query.cell_month_counts`` (whole filter window; ``by`` = fy, year, quarter or month). Without
    an offence filter, serious violence only is counted unless ``serious_violence_by_default`` is
    False. Returns :func:`~hotspot_engine.analyse.patterns.emerging_hotspots`' frame."""
    notes = []
    if not filters.sv_only and not filters.offences and serious_violence_by_default:
        filters = replace(filters, sv_only=True)
        notes.append("Offences: serious violence (no offence filter was given).")
    area = geography.study_area(filters.res, filters.districts, filters.csps)
    months = query.cell_month_counts(con, filters, harm_weights)
    window = window_months(filters.date_from, filters.date_to, months)
    held = held_months(con, filters)
    if held != query.stored_months(con):
        # A month one force of the places lacks is no data for its places, not their zeros: left out
        # of the periods (a part-period is then scaled as one, period_coverage).
        months = months[months["month"].astype(str).isin(held)]
        window = [month for month in window if month in held]
        notes.append(f"Months that one police force of these places {no_data_words(filters)} are left out of the "
                     "periods.")
    frame = emerging_hotspots(periodise(months, by, measure), area.cells, k=k, alpha=alpha,
                              period_months=period_coverage(window, by))
    frame.attrs["notes"] = notes + frame.attrs["notes"]
    return frame


# -- headline ---------------------------------------------------------------------------------------

def headline(con, filters: Filters, params=None, harm_weights=None, exclusions_path=None) -> Headline | None:
    """Headline figures for the filters' places and offences (their dates are ignored: the figures are
    always the latest complete financial year against the previous one). None without two years."""
    ext = query.extent(con)
    if ext.last_month is None or ext.first_month is None:
        return None
    after_year = latest_complete_fy(ext.last_month)
    before = query.financial_year(after_year - 1)
    after = query.financial_year(after_year)
    if ext.first_month > before[0] or not (_whole_year_stored(con, before, filters) and _whole_year_stored(con, after, filters)):
        return None
    base = filters.with_(date_from=None, date_to=None)
    sv = base if (base.offences or base.sv_only) else base.with_(sv_only=True)
    totals = {}
    for key, (first, last) in (("before", before), ("after", after)):
        frame = query.monthly_counts(con, sv.with_(date_from=first, date_to=last))
        totals[key] = int(frame["count"].sum()) if len(frame) else 0
    hot_ids, n_hotspots, set_name, notes = _headline_hotspots(con, sv, before, params, harm_weights, exclusions_path)
    in_hot = {key: query.count_in_cells(con, sv.with_(date_from=first, date_to=last), hot_ids)
              for key, (first, last) in (("before", before), ("after", after))}
    patrols, minutes = query.patrols_in_cells(con, base.with_(date_from=after[0], date_to=after[1]), hot_ids)
    return Headline(
        fy_before=query.fy_label(after_year - 1), fy_after=query.fy_label(after_year),
        sv_before=totals["before"], sv_after=totals["after"],
        hotspots=n_hotspots, hotspot_cells=int(len(hot_ids)),
        patrols_after=patrols, patrol_minutes_after=minutes,
        hotspot_sv_before=in_hot["before"], hotspot_sv_after=in_hot["after"], notes=notes, hotspot_set=set_name,
    )


def _whole_year_stored(con, year: tuple[str, str], filters: Filters) -> bool:
    """True when every month of the year holds incidents of every force of the filters' places. Real
    police.uk stores can skip years (a 2018 month beside 2024 ones): a year with nothing, or with
    months missing, read '+786 (+nan%)' against the year before; a force missing months beside another
    would read its arrival as a rise. The Overview then compares the months it has instead
    (service/overview.py)."""
    return set(months_between(*year)) <= held_months(con, filters)


def _headline_hotspots(con, sv: Filters, before: tuple[str, str], params, harm_weights,
                       exclusions_path) -> tuple[np.ndarray, int, str | None, list[str]]:
    """The hotspots the headline counts in: the set the partnership adopted on the year before (the
    latest set whose window is that financial year), so the Overview judges the list that was
    patrolled, as every other page does (issue 26); without one, the hotspots chosen on that year
    today, said in a note."""
    from hotspot_engine.service import sets

    listed = sets.list_sets(con)  # newest first
    on_year = listed[(listed["window_from"] == before[0]) & (listed["window_to"] == before[1])]
    adopted = sets.load(con, str(on_year["name"].iloc[0])) if len(on_year) else None
    if adopted is not None:
        try:
            adopted = sets.within(adopted, sv)
        except InputError:
            return np.array([], dtype=np.uint64), 0, adopted.name, []
        return adopted.cell_ids(), int(adopted.cells["hotspot_id"].nunique()), adopted.name, []
    result = hotspots(con, sv.with_(date_from=before[0], date_to=before[1]), params or HotspotParams(),
                      harm_weights=harm_weights, exclusions_path=exclusions_path)
    hot_cells = result.cells.loc[result.cells["is_hotspot"].astype(bool), "h3"]
    hot_ids = geography.str_to_cell(hot_cells) if len(hot_cells) else np.array([], dtype=np.uint64)
    return hot_ids, int(len(result.areas)), None, list(result.notes)


# -- patrols ----------------------------------------------------------------------------------------

def hotspots_before(con, filters: Filters, params=None, harm_weights=None, exclusions_path=None):
    """The Gi* hotspots of the 12 months before the period starts (the places chosen before the
    patrols). Returns (HotspotResult, note). When the store holds nothing before the period, the
    period itself is used and the note says so (the comparison is then flattered)."""
    params = params or HotspotParams()
    if not filters.date_from:
        raise InputError("hotspots before the period: choose a first month")
    start = filters.date_from
    before = filters.with_(date_from=shift_month(start, -12), date_to=shift_month(start, -1))
    first = query.extent(con).first_month
    if first is not None and first <= shift_month(start, -1):
        result = hotspots(con, before, params, harm_weights=harm_weights, exclusions_path=exclusions_path)
        if len(result.areas):
            return result, f"Hotspots: {params.describe()}, on {before.date_from} to {before.date_to} (before the period)."
    result = hotspots(con, filters, params, harm_weights=harm_weights, exclusions_path=exclusions_path)
    return result, (f"Hotspots: no hotspots could be found in the 12 months before {filters.date_from}; they were chosen "
                    "on the period itself, which flatters the incidents inside them.")


def patrol_report(con, filters: Filters, target: DosageTarget | None = None,
                  actions: Iterable[Sequence] | None = None, params=None, harm_weights=None,
                  exclusions_path=None, hotspots=None) -> PatrolReport:
    """:func:`~hotspot_engine.analyse.patrols.patrol_report` for the filters' months and places, on
    the Gi* hotspots of the 12 months before the period (or on ``hotspots``, a HotspotResult).
    Without an offence filter, incidents are serious violence only. Without dates, the last 12
    months in the store. ``target``: None is the default :class:`DosageTarget`."""
    from hotspot_engine.analyse.patrols import DosageTarget, hotspot_frames, period_of
    from hotspot_engine.analyse.patrols import patrol_report as patrol_report_from_frames
    from hotspot_engine.render.context import chance_line
    from hotspot_engine.store.streets import streets_near_cells

    target = DosageTarget() if target is None else target
    filters, window_note = resolve_window(con, filters)
    if not filters.date_from:
        raise InputError("the store holds no incidents: load data before measuring patrol dosage")
    if not filters.sv_only and not filters.offences:
        filters = filters.with_(sv_only=True)
    notes = [window_note] if window_note else []
    first_patrol = query.extent(con).first_patrol
    if first_patrol and filters.date_to and filters.date_from and filters.date_from < first_patrol[:7] <= filters.date_to:
        # Before the first patrol there is nothing to dose: measuring from it also picks the
        # hotspots on the 12 months before patrolling began, as the partnership did.
        notes.append(f"Period starts at the first recorded patrol ({first_patrol[:7]}), not {filters.date_from}.")
        filters = filters.with_(date_from=first_patrol[:7])
    if hotspots is None:
        hotspots, note = hotspots_before(con, filters, params, harm_weights, exclusions_path)
        notes.append(note)
    areas, hotspot_cells = hotspot_frames(hotspots)
    patrols = query.patrol_rows(con, filters)
    incidents = query.incidents_by_hotspot_hour(con, filters, hotspot_cells, harm_weights)
    cell_incidents = query.cell_counts(con, filters, harm_weights)
    report = patrol_report_from_frames(patrols, areas, hotspot_cells, incidents, period_of(filters), target,
                                       cell_incidents, actions, stored_months=_hotspot_months(con, filters, areas, notes))
    report.notes[:0] = notes
    report.chance = chance_line(hotspots.areas.get("significant") if len(hotspots.areas) else None)
    if hotspots.params.method == "predict" and len(hotspots.areas):
        from hotspot_engine.analyse.hotspots import area_predicted

        rates = area_predicted(hotspots.areas, hotspots.cells)["predicted"]
        report.predicted = {h: float(v) for h, v in zip(hotspots.areas["hotspot_id"], rates) if np.isfinite(v)}
    if query.extent(con).patrols == 0:
        _no_patrol_data(report)
    # Where the hotspots are on the ground, for briefings and the Patrols map: the incidents' own
    # location text (street names with counts) and the loaded street layer's lines, if any.
    report.streets = query.locations_near_cells(con, filters, hotspot_cells)
    report.street_lines = streets_near_cells(con, hotspot_cells)
    return report


#: The dosage status when the store holds no patrols at all: missing data, not missed patrols (issue 26
#: found every hotspot "RED 0%" on a store without patrol files).
NO_PATROL_DATA = "no patrol data"


def _no_patrol_data(report: PatrolReport) -> None:
    """Mark a report made on a store without patrols: no status colour, no compliance figure."""
    report.dosage["status"] = NO_PATROL_DATA
    report.dosage["compliance"] = np.nan
    report.summary.update(hotspots_green=0, hotspots_amber=0, hotspots_red=0, mean_compliance=float("nan"),
                          no_patrol_data=True)
    report.notes.insert(0, "No patrol data is loaded: dosage cannot be measured, so no hotspot is marked red "
                           "(load patrol logs or GPS pings on Data & export).")


def patrol_plan(con, filters: Filters, seed: int = 0, target: DosageTarget | None = None,
                **plan_options) -> tuple[PatrolReport, PatrolPlan]:
    """The report for the filters and the suggested plan for the week after the period."""
    from hotspot_engine.analyse.patrols import suggest_plan

    report = patrol_report(con, filters, target)
    return report, suggest_plan(report, seed=seed, **plan_options)


# -- impact -----------------------------------------------------------------------------------------

def weekly_problem(con, filters: Filters) -> str:
    """Why a weekly analysis of these incidents is impossible, in plain English, or '' when it is
    possible (at least 95% of the filtered incidents have a time of offence)."""
    from hotspot_engine.analyse.evaluation import MIN_TIMESTAMP_SHARE

    share = query.has_timestamps(con, filters)
    if np.isnan(share):
        return "no incidents match the filters"
    if share < MIN_TIMESTAMP_SHARE:
        return (f"only {share:.0%} of the selected incidents have a date and time of offence (police.uk "
                f"data give the month only); weekly analysis needs at least {MIN_TIMESTAMP_SHARE:.0%}, "
                "so use months")
    return ""


#: How the warning of :func:`chosen_after` starts (the Impact page finds it among the notes).
CHOSEN_AFTER = "The hotspots were chosen on"


def chosen_after(window: tuple[str, str] | None, post: str) -> str | None:
    """A warning when the hotspots were chosen on months from the intervention on: their after-period
    counts are then part of why they were chosen. On the real store the set chosen on 2024-01..04,
    evaluated at 2024-03-01, printed a plain before/after of -20.5% with no word of it."""
    if not window or window[1] < post:
        return None
    return (f"{CHOSEN_AFTER} {window[0]} to {window[1]}, which runs past the intervention (from {post}): "
            "the months after it helped choose them, so no before/after figure here is a fair effect; evaluate "
            "hotspots chosen before the intervention.")


def impact(con, filters: Filters, intervention: str, hotspots_file: str | Path | None = None,
           model: str = "negbin", buffer_k: int = 1, params=None, harm_weights=None,
           exclusions_path=None, period: str = "month", selection_window: tuple[str, str] | None = None,
           placebo: bool = False, hotspot_set=None) -> ImpactResult:
    """Impact of an intervention on serious violence in the hotspots, over every month in the store
    (or the filters' months). Without ``hotspots_file`` the hotspots are found with ``params`` on the
    12 months before the intervention, which is then their selection window; with it, the window is
    read from the file's methods sidecar (:func:`selection_window_of`); ``selection_window`` (first,
    last month) overrides both. ``period='week'`` fits weekly series (ISO weeks, whole weeks only)
    and raises :class:`InputError` when fewer than 95% of the filtered incidents have a time of
    offence (see :func:`weekly_problem`). ``placebo`` adds :func:`placebo_runs` (monthly)."""
    from hotspot_engine.analyse.evaluation import hotspot_cells_from_file, selection_window_of
    from hotspot_engine.analyse.impact import PERIODS, ImpactOptions, first_post_month, impact_table

    ext = query.extent(con)
    if ext.first_month is None or ext.last_month is None:
        raise InputError("the store holds no incidents; run 'ingest' or 'sample' first")
    if period not in PERIODS:
        raise InputError(f"period: expected month or week, got '{period}'")
    post = first_post_month(intervention)
    if not (filters.sv_only or filters.offences):
        filters = filters.with_(sv_only=True)
    span = months_between(filters.date_from or ext.first_month, filters.date_to or ext.last_month)
    months, gap_note = _impact_months(con, filters, span, post)
    counting = filters.with_(date_from=months[0], date_to=months[-1])
    if period == "week":
        problem = weekly_problem(con, counting)
        if problem:
            raise InputError(f"weekly impact: {problem}")
    window = selection_window
    if hotspot_set is not None:
        from hotspot_engine.service.sets import hot_cells, within

        hot, filters = hot_cells(within(hotspot_set, filters)), filters.with_(res=hotspot_set.filters.res)
        window = window or (hotspot_set.window_from, hotspot_set.window_to)
    elif hotspots_file:
        hot = hotspot_cells_from_file(hotspots_file)
        window = window or selection_window_of(hotspots_file)
    else:
        window = window or (shift_month(post, -12), shift_month(post, -1))
        found = hotspots(con, filters.with_(date_from=window[0], date_to=window[1]), params or HotspotParams(),
                         harm_weights=harm_weights, exclusions_path=exclusions_path)
        cells = found.cells[found.cells["is_hotspot"].astype(bool)]
        if cells.empty and not found.settings.get("months_with_data", 1):
            # Not "none found": nothing was there to look at (Durham's places before its first stored month).
            raise InputError(f"the store holds no incidents of the selected places and offences in {window[0]} to "
                             f"{window[1]}, the 12 months before the intervention: choose a later date, or load them")
        if cells.empty:
            raise InputError("no hotspots were found in the 12 months before the intervention")
        hot = pd.DataFrame({"h3": geography.str_to_cell(cells["h3"]), "hotspot_id": cells["hotspot_id"].to_numpy(),
                            "hotspot_name": cells["hotspot_name"].to_numpy()})
    area = geography.study_area(filters.res, filters.districts, filters.csps)
    # Each hotspot is compared with the rest of its own CSP: the months its forces hold are what count.
    months, gap_note = _impact_months(con, filters, span, post, area.cells.loc[area.cells["h3"].isin(hot["h3"]), "district"])
    months_of = _own_months(con, filters, span, post, hot, area.cells, months)
    options = ImpactOptions(model=model, buffer_k=buffer_k, period=period, selection_window=window)
    counts, periods, periods_of = _period_counts(con, filters, period, months, months_of)
    result = _numbered(impact_table(counts, hot, area.cells, periods, intervention, options,
                                    months_of=periods_of or None), hot)
    result.notes.extend([gap_note] if gap_note else [])
    result.notes[:0] = [line for line in [chosen_after(window, post)] if line]
    if period == "week":
        return result
    if placebo:
        result.placebo.extend(placebo_runs(con, filters, window or (shift_month(post, -12), shift_month(post, -1)),
                                           params, harm_weights, exclusions_path, model))
    return result


def _period_counts(con, filters: Filters, period: str, months: list[str], months_of: dict[str, list[str]]
                   ) -> tuple[pd.DataFrame, list[str], dict[str, list[str]]]:
    """(cell, period) counts over every hotspot's months, the common periods and each hotspot's own
    (``months_of``) in periods: whole ISO weeks of those months for ``period='week'``."""
    from hotspot_engine.analyse.evaluation import whole_weeks

    first = min([months[0], *(m[0] for m in months_of.values())])
    last = max([months[-1], *(m[-1] for m in months_of.values())])
    counting = filters.with_(date_from=first, date_to=last)
    if period == "month":
        counts = query.cell_month_counts(con, counting)
        counts["h3"] = counts["h3"].astype(np.uint64)
        return counts[["h3", "month", "count"]], months, months_of
    weeks = whole_weeks(months[0], months[-1])
    if not weeks:
        raise InputError("weekly impact: the selected months hold no whole week")
    counts = query.cell_week_counts(con, counting)
    counts = counts[counts["week"].isin(whole_weeks(first, last))].rename(columns={"week": "month"})
    counts["h3"] = counts["h3"].astype(np.uint64)
    return counts[["h3", "month", "count"]], weeks, {h: whole_weeks(m[0], m[-1]) for h, m in months_of.items()}


def _hotspot_months(con, filters: Filters, areas: pd.DataFrame, notes: list[str]) -> set[str]:
    """The months every police force of the hotspots' districts holds (the days dosage counts): a
    month one of them lacks while another force holds it is no data for its hotspots, not days without
    patrols; hotspots all in one force keep that force's months whatever other forces lack."""
    districts = tuple(sorted(set(areas["district"].dropna().astype(str)))) if "district" in areas else ()
    held = held_months(con, filters.with_(districts=districts, csps=()) if districts else filters)
    if held != query.stored_months(con):
        notes.append(f"A month that one police force of these hotspots {no_data_words(filters)} counts as not stored "
                     "here (no data for its hotspots).")
    return held


def _impact_months(con, filters: Filters, span: list[str], post: str, districts: pd.Series | None = None
                   ) -> tuple[list[str], str]:
    """:func:`stored_run` over the months every police force of the places holds (of the hotspots'
    own districts when given): a month one force lacks while another holds it is no data for its
    places, not their zeros. On one force, the stored months."""
    places = filters if districts is None or not len(districts) else filters.with_(
        districts=tuple(sorted(set(districts))), csps=())
    held = held_months(con, places)
    months, note = stored_run(span, held, post)
    if note and held != query.stored_months(con):
        note += (f" A month that one police force of these places {no_data_words(filters)} is left out too: there it "
                 "would count that force's places as having no incidents.")
    return months, note


def _own_months(con, filters: Filters, span: list[str], post: str, hot: pd.DataFrame, cells: pd.DataFrame,
                common: list[str]) -> dict[str, list[str]]:
    """hotspot_id -> the run of months its own police force(s) hold, for the hotspots whose run is
    longer than ``common`` (the months every force of all the hotspots holds); empty when none is.
    On Cleveland 2021 + Durham 2021-10..12 with an intervention on 2021-12-01, the common months had
    cut Cleveland's 16 hotspots to 2 months before (their force holds 11) for Durham's 3."""
    district = cells.drop_duplicates("h3").set_index("h3")["district"]
    places = pd.DataFrame({"hotspot_id": hot["hotspot_id"].astype(str).to_numpy(),
                           "district": district.reindex(hot["h3"].to_numpy()).to_numpy()}).dropna()
    own: dict[str, list[str]] = {}
    runs: dict[tuple[str, ...], list[str]] = {}  # one look-up per set of districts, not per hotspot
    for hotspot_id, districts in places.groupby("hotspot_id", sort=False)["district"]:
        names = tuple(sorted(set(districts.astype(str))))
        if names not in runs:
            runs[names] = stored_run(span, held_months(con, filters.with_(districts=names, csps=())), post)[0]
        if runs[names] != common:
            own[str(hotspot_id)] = runs[names]
    return own


#: How the note of :func:`stored_run` begins (the Impact page shows it under the pooled figures).
GAP_NOTE = "Months not in the store"


def stored_run(months: list[str], stored: set[str], post: str) -> tuple[list[str], str]:
    """The unbroken run of stored months in ``months`` around the intervention (``post``, the first
    month after, or else the month before it), and a note naming what was left out ('' when nothing was).

    A month the store does not hold is not a month with no incidents: the real police.uk months
    (2018-03 beside 2024-01..04) had made a 72-month baseline of 69 zeros, a mean before of 0.4 a
    month against 11.5 after in the busiest hotspot, and every model fail as "did not converge"."""
    run = [m for m in months if m in stored]
    anchor = next((m for m in (post, shift_month(post, -1)) if m in run), None)
    if anchor is None or len(run) == len(months):
        return months, ""
    at = months.index(anchor)
    first, last = at, at
    while first > 0 and months[first - 1] in stored:
        first -= 1
    while last + 1 < len(months) and months[last + 1] in stored:
        last += 1
    kept = months[first:last + 1]
    missing = [m for m in months if m not in stored]
    left = sorted(set(months) - set(kept))
    return kept, (f"{GAP_NOTE} ({len(missing)}, {missing[0]} to {missing[-1]}) would count as zero "
                  f"incidents, so the series is the unbroken run of stored months {kept[0]} to {kept[-1]} "
                  f"({len(left)} month(s) of the range left out).")


def _numbered(result: ImpactResult, hot: pd.DataFrame) -> ImpactResult:
    """The table with the adopted set's hotspot numbers (as on the map) after the id, when ``hot`` has them."""
    if "hotspot_number" in hot.columns:
        number = hot.drop_duplicates("hotspot_id").set_index("hotspot_id")["hotspot_number"]
        result.table.insert(1, "hotspot_number", result.table["hotspot_id"].map(number).astype("Int64"))
    return result


def placebo_runs(con, filters: Filters, selection_window: tuple[str, str], params=None, harm_weights=None,
                 exclusions_path=None, model: str = "negbin", max_runs: int = 3) -> list[PlaceboRun]:
    """The same evaluation at pseudo-intervention dates 12, 24, ... months before the real hotspots'
    selection window, on the data before that window only (the window is a high period for the real
    hotspots, so a placebo whose after-period ran into it would show their luck, not nothing), with
    hotspots chosen by ``params`` on the year before each pseudo date. Each run needs 12 baseline
    months before its own selection year; short data give fewer runs or none."""
    ext = query.extent(con)
    sv = filters if (filters.sv_only or filters.offences) else filters.with_(sv_only=True)
    first = filters.date_from or ext.first_month
    end = shift_month(selection_window[0], -1)
    stored = held_months(con, sv)  # a month one force of the places lacks is no zero either
    if first is None or end < first or end not in stored:
        return []
    first = stored_run(months_between(first, end), stored, shift_month(end, 1))[0][0]  # unstored months are no zeros
    runs = []
    for k in range(1, max_runs + 1):
        pseudo = shift_month(selection_window[0], -12 * k)
        chosen_from, chosen_to = shift_month(pseudo, -12), shift_month(pseudo, -1)
        if first is None or shift_month(chosen_from, -12) < first:
            break
        found = hotspots(con, sv.with_(date_from=chosen_from, date_to=chosen_to), params or HotspotParams(),
                              harm_weights=harm_weights, exclusions_path=exclusions_path)
        runs.append(_placebo_run(con, sv, found.cells, first, end, pseudo, (chosen_from, chosen_to), model))
    return runs


def _placebo_run(con, filters: Filters, cells: pd.DataFrame, first: str, last: str, pseudo: str,
                 window: tuple[str, str], model: str) -> PlaceboRun:
    from hotspot_engine.analyse.evaluation import PlaceboRun
    from hotspot_engine.analyse.impact import POOLED_ID, ImpactOptions, impact_table

    hot = cells[cells["is_hotspot"].astype(bool)]
    label = f"{window[0]} to {window[1]}"
    nan = float("nan")
    if hot.empty:
        return PlaceboRun(f"{pseudo}-01", label, 0, nan, nan, nan, nan, nan, "no hotspots were found in that year")
    months = months_between(first, last)
    counts = query.cell_month_counts(con, filters.with_(date_from=first, date_to=last))
    counts["h3"] = counts["h3"].astype(np.uint64)
    hot_cells = pd.DataFrame({"h3": geography.str_to_cell(hot["h3"]), "hotspot_id": hot["hotspot_id"].to_numpy(),
                              "hotspot_name": hot["hotspot_name"].to_numpy()})
    area = geography.study_area(filters.res, filters.districts, filters.csps)
    result = impact_table(counts[["h3", "month", "count"]], hot_cells, area.cells, months, f"{pseudo}-01",
                          ImpactOptions(model=model, selection_window=window))
    row = result.table.set_index("hotspot_id").loc[POOLED_ID]
    return PlaceboRun(f"{pseudo}-01", label, int(hot_cells["hotspot_id"].nunique()),
                      float(row["corrected_change_pct"]), float(row["corrected_ci_low_pct"]),
                      float(row["corrected_ci_high_pct"]), float(row["its_change_pct"]),
                      float(row["simple_change_pct"]), str(row["message"]))
