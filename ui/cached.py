"""The pages' one door to the engine: the store, the settings, and Streamlit-cached calls of
:mod:`hotspot_engine.service`, each keyed on the Filters value (plus its parameters) and the data
version, so a result is computed once per filter set and never outlives an upload. Nothing here
runs SQL (tests/test_layout.py checks ui/ and pages/)."""
from __future__ import annotations

from dataclasses import replace
from datetime import date

import pandas as pd
import streamlit as st

from hotspot_engine import service
from hotspot_engine.analyse.hotspots import HotspotParams
from hotspot_engine.analyse.patrols import DosageTarget, briefing_pdf, suggest_plan
from hotspot_engine.errors import InputError
from hotspot_engine.filters import Filters
from hotspot_engine.render.context import output_context
from hotspot_engine.render.text_safety import markdown_plain
from hotspot_engine.service import sets as sets_service
from hotspot_engine.settings import Settings, load_settings


@st.cache_resource(show_spinner=False)
def settings() -> Settings:
    return load_settings()


@st.cache_resource(show_spinner="Opening the store (first start loads the built-in sample)…")
def _store():
    """One connection per server process; each script run takes its own cursor (thread-safe)."""
    return service.open_app_store(settings())


def cursor():
    try:
        store = _store()
    except InputError as exc:  # e.g. an ingest holds the store: say so, not Streamlit's generic error
        st.error(markdown_plain(str(exc)))
        st.stop()
    return store.cursor()


def data_version() -> int:
    """Changes whenever a load lands, so cached results are never stale after an upload."""
    return service.data_version(cursor())


@st.cache_data(show_spinner=False, max_entries=4)
def extent(version: int) -> service.Extent:
    return service.extent(cursor())


def window_label(first: str | None, last: str | None, version: int, places: Filters | None = None) -> str:
    """'first to last', with how many of its months the store holds when not all: a window the map
    calls 2023-05 to 2024-04 held 4 stored months of the real police.uk data, not 12. With
    ``places``, a force of them holding fewer of the months is named too ('; Durham Constabulary 3 of
    12 months'), as the command line's outputs say it."""
    from hotspot_engine.reference.geography import districts_for
    from hotspot_engine.service.store_data import window_words

    words = window_words(first, last, cached_stored_months(version))
    if places is None or not first or not last:
        return words
    gaps = cached_force_gaps_of(places.with_(date_from=first, date_to=last), version)
    return words + gaps.window_words(set(districts_for(places.districts, places.csps)))


def is_synthetic() -> bool:
    """True when the store holds the built-in synthetic sample (every page and export says so)."""
    return _is_sample(data_version())


@st.cache_data(show_spinner=False, max_entries=4)
def _is_sample(version: int) -> bool:
    return service.is_sample(cursor())


def sample_status() -> str:
    """'none', 'only' (the store is the demo sample) or 'mixed' (sample and real data together)."""
    return _sample_status(data_version())


@st.cache_data(show_spinner=False, max_entries=4)
def _sample_status(version: int) -> str:
    return service.sample_status(cursor())


@st.cache_data(show_spinner=False, max_entries=8)
def cached_streets(view: dict, viewport_px: tuple[int, int], version: int):
    """The loaded street layer inside the map's view (None: no layer, or the view is wider than a city)."""
    return service.streets_in_view(cursor(), view, *viewport_px)


def remove_sample() -> tuple[int, int]:
    return service.remove_sample(cursor())


def loads() -> pd.DataFrame:
    return service.loads(cursor())


def rejects(every_column: bool = False) -> pd.DataFrame:
    return service.rejects(cursor(), every_column)


def ingest_upload(name: str, data: bytes, fmt: str | None):
    return service.ingest_upload(cursor(), name, data, fmt=fmt, offence_map=settings().offence_map)


def ingest_street_upload(name: str, data: bytes, name_column: str | None):
    return service.ingest_street_upload(cursor(), name, data, name_column)


def cached_headline(filters: Filters, version: int):
    """The headline figures; they always compare the last two complete financial years, so the
    months filter is not part of the cache key (moving the Months slider costs nothing here)."""
    return _cached_headline(filters.with_(date_from=None, date_to=None), version)


@st.cache_data(show_spinner="Computing the headline figures…", max_entries=32)
def _cached_headline(filters: Filters, version: int):
    s = settings()
    return service.headline(cursor(), filters, harm_weights=s.harm_weights, exclusions_path=s.exclusions)


@st.cache_data(show_spinner=False, max_entries=64)
def cached_monthly(filters: Filters, by: str | None, version: int) -> pd.DataFrame:
    return service.monthly_counts(cursor(), filters, by=by, harm_weights=settings().harm_weights)


@st.cache_data(show_spinner=False, max_entries=4)
def cached_stored_months(version: int) -> frozenset[str]:
    return frozenset(service.stored_months(cursor()))


@st.cache_data(show_spinner=False, max_entries=16)
def cached_force_gaps_of(filters: Filters, version: int) -> service.ForceGaps:
    """The months of the filters' range each force holds no data for while another force does."""
    return service.force_gaps(cursor(), filters)


def cached_force_gaps(filters: Filters, version: int) -> dict[str, list[str]]:
    """Force -> the months of the filters' range it holds no data for while another force does."""
    return cached_force_gaps_of(filters, version).missing


@st.cache_data(show_spinner=False, max_entries=16)
def cached_held_months(filters: Filters, version: int) -> frozenset[str]:
    """The stored months every police force of the filters' places holds (service.held_months)."""
    return frozenset(service.held_months(cursor(), filters))


@st.cache_data(show_spinner="Scoring cells…", max_entries=32)
def cached_hotspots(filters: Filters, params, version: int):
    s = settings()
    return service.hotspots(cursor(), filters, params, harm_weights=s.harm_weights, exclusions_path=s.exclusions)


@st.cache_data(show_spinner="Checking the hotspots against the following months…", max_entries=16)
def cached_holdout(filters: Filters, params, test_months: int, version: int):
    """The hold-out check of the window's hotspots: (result, Holdout), see service.validate_recent."""
    s = settings()
    return service.validate_recent(cursor(), filters, test_months, params, harm_weights=s.harm_weights,
                                   exclusions_path=s.exclusions)


@st.cache_data(show_spinner=False, max_entries=32)
def cached_area_outlines(filters: Filters, params, version: int) -> dict:
    """Hotspot outlines for the map (dissolving cells costs tens of ms: once per result)."""
    from hotspot_engine.render.deck import areas_outline_geojson

    return areas_outline_geojson(cached_hotspots(filters, params, version).cells)


@st.cache_data(show_spinner="Counting cells month by month…", max_entries=16)
def cached_month_colours(filters: Filters, version: int, dark: bool = False):
    """(cell-month frame with colours on one scale over the range, legend) for the map's playback."""
    from hotspot_engine.render.deck import month_colours

    sv = filters if (filters.offences or filters.sv_only) else filters.with_(sv_only=True)
    return month_colours(service.cell_month_counts(cursor(), sv, harm_weights=settings().harm_weights), dark=dark)


@st.cache_data(show_spinner="Classifying space-time patterns over the financial years…", max_entries=16)
def cached_patterns(filters: Filters, measure: str, version: int) -> pd.DataFrame:
    """Emerging hot spot class per study cell over the financial years of the selected months."""
    return service.patterns(cursor(), filters, by="fy", measure=measure, harm_weights=settings().harm_weights)


@st.cache_data(show_spinner="Fitting the interrupted time-series models…", max_entries=16)
def cached_impact(filters: Filters, intervention: str, model: str, buffer_k: int, version: int,
                  period: str = "month", on=None):
    """Impact on the adopted set ``on`` (its hotspots and selection window), or on the hotspots of
    the 12 months before the intervention."""
    return service.impact(cursor(), filters, intervention=intervention, model=model, buffer_k=buffer_k,
                          params=HotspotParams(), period=period, hotspot_set=None if on is None else _set(on))


@st.cache_data(show_spinner="Running the placebo checks at earlier dates…", max_entries=16)
def cached_placebo(filters: Filters, window: tuple[str, str], model: str, version: int) -> list:
    """The evaluation at pseudo-intervention dates before the hotspots' selection window."""
    return service.placebo_runs(cursor(), filters, window, params=HotspotParams(), model=model)


@st.cache_data(show_spinner=False, max_entries=16)
def cached_weekly_problem(filters: Filters, version: int) -> str:
    """Why weekly impact series are impossible for these incidents ('' when they are possible)."""
    return service.weekly_problem(cursor(), filters)


@st.cache_data(show_spinner="Measuring patrol dosage…", max_entries=16)
def cached_patrol_report(filters: Filters, target: DosageTarget, version: int, on=None):
    """The patrol report on the adopted set ``on`` (a ui.sets.SetRef), on today's map hotspots (a
    ui.sets.TodayRef: the Hotspot map's window and method), or with neither on the hotspots of the 12
    months before the period."""
    from ui.sets import TodayRef  # ui.sets imports this module

    s = settings()
    if isinstance(on, TodayRef):
        from ui.common import hotspot_window

        window = hotspot_window(filters, on.window_months)
        report = service.patrol_report(cursor(), filters, target, harm_weights=s.harm_weights,
                                       exclusions_path=s.exclusions,
                                       hotspots=cached_hotspots(window, on.params, version))
        report.notes.insert(0, f"Hotspots as on the Hotspot map: chosen on {window.date_from} to {window.date_to}.")
        return report
    if on is not None:
        return sets_service.patrol_report(cursor(), filters, _set(on), target, harm_weights=s.harm_weights)
    return service.patrol_report(cursor(), filters, target, harm_weights=s.harm_weights, exclusions_path=s.exclusions)


@st.cache_data(show_spinner=False, max_entries=32)
def _suggested_plan(filters: Filters, target: DosageTarget, version: int, week_start: date, seed: int,
                    extra: int | None, on=None):
    return suggest_plan(cached_patrol_report(filters, target, version, on), week_start=week_start, seed=seed,
                        extra_visits=extra)


def cached_plan(filters: Filters, target: DosageTarget, version: int, week_start: date, seed: int, extra: int | None,
                on=None):
    """The suggested week on the set ``on`` (or today's hotspots), following a stored trial schedule
    (read each run: adopting a schedule is no data load)."""
    from hotspot_engine.service import trial

    return trial.follow_stored(cursor(), _suggested_plan(filters, target, version, week_start, seed, extra, on))


@st.cache_data(show_spinner="Drawing the briefing…", max_entries=8)
def cached_briefing(filters: Filters, target: DosageTarget, version: int, week_start: date, seed: int,
                    extra: int | None, hotspot_ids: tuple[str, ...], synthetic: bool, on=None) -> bytes:
    from hotspot_engine.service.exports import report_window
    from ui.sets import SetRef

    report = cached_patrol_report(filters, target, version, on)
    plan = cached_plan(filters, target, version, week_start, seed, extra, on)
    # The context every output carries, over the months the briefing's figures use (issue 27).
    window = report_window(filters, report.period)
    context = output_context(window, extent(version).proxy_share, _set(on).name if isinstance(on, SetRef) else None,
                             quality_warning(window, version))
    # Its months in the pages' words, with how many are stored (as the command line's briefing says).
    context = replace(context, window=window_label(window.date_from, window.date_to, version, window))
    return briefing_pdf(report, plan, hotspot_ids, synthetic=synthetic, context=context)


# -- adopted hotspot sets ---------------------------------------------------------------------------

def sets_version() -> str:
    """Changes whenever a set is adopted or replaced."""
    return sets_service.version(cursor())


@st.cache_data(show_spinner=False, max_entries=8)
def cached_set_list(sets_version: str) -> pd.DataFrame:
    return sets_service.list_sets(cursor())


@st.cache_data(show_spinner=False, max_entries=16)
def cached_set(name: str | None, sets_version: str):
    """The adopted set ``name`` (None: the latest), or None when none is adopted."""
    return sets_service.load(cursor(), name)


def _set(on):
    """The set a SetRef names, as stored (read once per adoption)."""
    return cached_set(on.name, sets_version())


@st.cache_data(show_spinner=False, max_entries=16)
def cached_set_result(on, version: int):
    """The set as a HotspotResult, with its cells' incidents over the set's window (set_window)."""
    return sets_service.set_result(cursor(), _set(on), settings().harm_weights)


@st.cache_data(show_spinner=False, max_entries=16)
def cached_set_window(on, version: int):
    """The months every page and output counts the set's incidents over, and the words for them."""
    return sets_service.store_set_window(cursor(), _set(on))


@st.cache_data(show_spinner=False, max_entries=8)
def cached_set_outlines(on) -> dict:
    """The set's hotspot outlines for the map (a set never changes: keyed on its name and time)."""
    from hotspot_engine.render.deck import areas_outline_geojson

    return areas_outline_geojson(_set(on).cells.assign(is_hotspot=True))


@st.cache_data(show_spinner=False, max_entries=16)
def cached_overview_periods(filters: Filters, version: int, on=None):
    """The Overview's comparison for the months loaded (overall, inside the set ``on``)."""
    from hotspot_engine.service.overview import overview_periods

    return overview_periods(cursor(), filters.with_(date_from=None, date_to=None), None if on is None else _set(on))


@st.cache_data(show_spinner="Monitoring the set week by week…", max_entries=8)
def cached_monitor(on, target: DosageTarget, version: int):
    """The adopted set's weeks since it came into use (service/monitoring.py)."""
    from hotspot_engine.service.monitoring import monitor

    return monitor(cursor(), _set(on), target)


@st.cache_data(show_spinner=False, max_entries=8)
def cached_set_areas(on) -> pd.DataFrame:
    """The set's hotspots as the map labels them: number, id, name, centre."""
    return _set(on).hotspots()


def adopt_set(name: str, result, window: Filters, params, filters: Filters, adopted_by: str, note: str,
              replace: bool = False):
    return sets_service.adopt(cursor(), name, result, window, params, filters, adopted_by, note, replace)


@st.cache_data(show_spinner="Drawing the maps…", max_entries=8)
def cached_meeting_maps(filters: Filters, hot_filters: Filters, params, value_column: str, safe: bool,
                        threshold: int, version: int, filters_line: str, on=None):
    """(html, png, pdf, base file name) for the current view: the adopted set ``on`` (on its own
    window) when given, else today's hotspots."""
    s = settings()
    set_name = None
    if on is not None:
        adopted = _set(on)
        result = cached_set_result(on, version)
        window = cached_set_window(on, version)  # the months the set's counts cover: the title says them
        hot_filters = adopted.filters.with_(date_from=window.date_from, date_to=window.date_to)
        set_name = adopted.name
    else:
        result = cached_hotspots(hot_filters, params, version)
    # One context for the three files: area, window, source and caveat, and the adopted set's name.
    context = output_context(hot_filters, extent(version).proxy_share, set_name, quality_warning(hot_filters, version))
    # The title's window says how many of its months are stored (the real store's 2023-05 to 2024-04 holds 4).
    context = replace(context, window=window_label(hot_filters.date_from, hot_filters.date_to, version, hot_filters))
    return service.meeting_maps(result, cached_headline(filters, version),
                                filters, hot_filters, value_column, safe, threshold, is_synthetic(), filters_line,
                                basemap_url=s.basemap_url, basemap_attribution=s.basemap_attribution, context=context,
                                patrols_stored=extent(version).patrols > 0)


@st.cache_data(show_spinner=False, max_entries=16)
def quality_warning(filters: Filters, version: int) -> str | None:
    """The data-quality guard's one line for the filters' months (None: nothing flagged)."""
    from hotspot_engine.service.quality import quality_warning as warning

    return warning(cursor(), filters)


@st.cache_data(show_spinner=False, max_entries=4)
def quality_report(version: int):
    """Flagged force-months and coverage gaps as the last load judged them."""
    from hotspot_engine.service.quality import quality_report as report

    return report(cursor())
