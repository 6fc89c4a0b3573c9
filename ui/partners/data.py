"""Cached calls into hotspot_engine.service.partners for the Partner data page (keyed on the
filters and the store's data version, so a new load is never hidden by the cache)."""
from __future__ import annotations

import pandas as pd
import streamlit as st

from hotspot_engine.filters import Filters
from hotspot_engine.service import partners as partner_service
from ui.cached import cached_hotspots, cursor, settings


def map_style() -> str:
    from hotspot_engine.render import deck

    s = settings()
    return deck.basemap_style(s.basemap_url, s.basemap_attribution) if s.basemap_url else deck.OFFLINE_STYLE


def threshold() -> int:
    return settings().partner_safe_threshold


@st.cache_data(show_spinner=False, max_entries=8)
def layers(version: int) -> pd.DataFrame:
    return partner_service.layers(cursor())


def screen_layers(version: int) -> pd.DataFrame:
    """The layer list with restricted layers' row totals as the screen shows counts."""
    return partner_service.screen_layers(layers(version), threshold())


@st.cache_data(show_spinner="Comparing partner and police counts per LSOA…", max_entries=16)
def funnel(source: str, filters: Filters, version: int) -> partner_service.PartnerFunnel:
    return partner_service.screen_funnel(partner_service.funnel(cursor(), source, filters), threshold())


@st.cache_data(show_spinner=False, max_entries=16)
def lsoa_shading(source: str, filters: Filters, version: int, only_flagged: bool) -> dict:
    from hotspot_engine.render.partner_deck import lsoa_shading_geojson

    result = funnel(source, filters, version)
    shapes = partner_service.lsoa_shapes(result.result.table["lsoa_code"].tolist())
    hide = threshold() if result.hide_small else None
    return lsoa_shading_geojson(shapes, result.result.table, source, hide, only_flagged=only_flagged)


@st.cache_data(show_spinner=False, max_entries=32)
def points(layer: dict, filters: Filters, version: int) -> pd.DataFrame:
    return partner_service.map_points(cursor(), layer, filters, threshold())


@st.cache_data(show_spinner="Joining partner layers to the hotspots…", max_entries=16)
def hotspot_table(filters: Filters, params, version: int) -> pd.DataFrame:
    result = cached_hotspots(filters, params, version)
    partner = partner_service.hotspot_partner_table(cursor(), result.cells, filters, threshold())
    areas = result.areas[["hotspot_rank", "hotspot_id", "hotspot_name", "district", "count", "harm"]]
    return areas.merge(partner, on="hotspot_id", how="left")


@st.cache_data(show_spinner="Ranking cells…", max_entries=16)
def ranking(filters: Filters, params, weights: tuple[tuple[str, float], ...], version: int) -> pd.DataFrame:
    result = cached_hotspots(filters, params, version)
    ranked = partner_service.combined_ranking(cursor(), result.cells, filters, dict(weights), threshold())
    names = result.cells[["h3", "hotspot_name", "district"]].assign(h3=lambda f: f["h3"].astype(str))
    return ranked.merge(names, on="h3", how="left").fillna({"hotspot_name": ""})
