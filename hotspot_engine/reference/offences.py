"""Offence groups: the partnership's serious-violence definition, HO-code mapping and harm weights.

Every incident carries one ``offence_group``. Eight groups make up serious violence (SV); the
others are context layers (``other_violence``) or data.police.uk broad types that can only give a
labelled *proxy* of serious violence (``violence_and_sexual``, ``public_order``).
"""
from __future__ import annotations

import re
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

import numpy as np
import pandas as pd

from hotspot_engine.errors import InputError
from hotspot_engine.reference.filecache import read_once_per_version
from hotspot_engine.reference.lookup_csv import read_lookup_csv
from hotspot_engine.resources import DATA_DIR  # noqa: E402

SV_GROUPS: tuple[str, ...] = (
    "murder",
    "attempted_murder",
    "gbh",
    "robbery",
    "weapon_possession",
    "violent_disorder",
    "riot",
    "knife_injury",
)
#: police.uk broad crime types that map one-to-one onto an SV group.
POLICE_UK_SV_PROXY: dict[str, str] = {
    "Robbery": "robbery",
    "Possession of weapons": "weapon_possession",
}
#: police.uk broad types that *contain* SV but mostly are not: wider optional layers.
POLICE_UK_WIDER: dict[str, str] = {
    "Violence and sexual offences": "violence_and_sexual",
    "Public order": "public_order",
}
PROXY_NOTE = (
    "data.police.uk proxy: only Robbery and Possession of weapons map onto the serious-violence "
    "definition; GBH, homicide, violent disorder and knife injuries cannot be separated from the "
    "broad 'Violence and sexual offences' and 'Public order' types."
)


@dataclass(frozen=True)
class OffenceGroup:
    group: str
    label: str
    serious_violence: bool
    proxy_layer: bool
    description: str


@lru_cache(maxsize=1)
def offence_groups() -> dict[str, OffenceGroup]:
    frame = pd.read_csv(DATA_DIR / "offence_groups.csv", dtype=str)
    return {
        row.group: OffenceGroup(
            row.group, row.label, row.serious_violence == "true", row.proxy_layer == "true", row.description
        )
        for row in frame.itertuples(index=False)
    }


def group_label(group: str) -> str:
    groups = offence_groups()
    return groups[group].label if group in groups else group


def resolve_group(name: str) -> str:
    """Accept a group code or its label in any case ("GBH", "possession of a weapon")."""
    key = name.strip().lower()
    for g in offence_groups().values():
        if key in (g.group, g.label.lower(), g.label.lower().replace(" ", "_")):
            return g.group
    choices = ", ".join(offence_groups())
    raise InputError(f"unknown offence category '{name}'; choose from: {choices}")


NO_INJURY_CODES = ("105A", "105B")
NO_INJURY_TEXT = re.compile(r"without injury|common assault|battery", re.IGNORECASE)


@dataclass(frozen=True)
class OffenceMap:
    """HO-code and offence-text rules that turn a force record into an offence group."""

    ho_codes: dict[str, str]
    text_rules: tuple[tuple[re.Pattern[str], str], ...]

    def classify(self, ho_code: pd.Series | None, offence: pd.Series | None, knife: pd.Series | None) -> pd.Series:
        """Vectorised: one group per row; 'other' where neither code nor text matches."""
        n = len(ho_code) if ho_code is not None else len(offence)  # type: ignore[arg-type]
        result = pd.Series(np.full(n, None, dtype=object))
        if ho_code is not None:
            codes = ho_code.astype("string").str.strip().str.upper().str.replace(r"^0+(?=\d)", "", regex=True)
            result = codes.map({k.upper(): v for k, v in self.ho_codes.items()}).astype(object)
            result = result.where(result.notna(), None).reset_index(drop=True)
        if offence is not None:
            # Text decides where the code does not: no code, or a broad code such as 8N that holds
            # both s20 GBH and ABH. Text can only *upgrade* a broad code to a serious group.
            text = offence.astype("string").fillna("").reset_index(drop=True)
            missing = result.isna()
            broad = result.isin(["other_violence", "other"])
            open_rows = missing | broad
            for pattern, group in self.text_rules:
                if not open_rows.any():
                    break
                hit = open_rows & text.str.contains(pattern, regex=True).fillna(False).astype(bool)
                if group not in SV_GROUPS:
                    hit &= missing
                result[hit] = group
                open_rows &= ~hit
                missing &= ~hit
        result = result.fillna("other")
        if knife is not None:
            # "Violence with injury where a bladed item was used": a knife flag upgrades violence
            # with injury, never an assault without injury (HO 105A/105B).
            flagged = knife.reset_index(drop=True).fillna(False).astype(bool)
            no_injury = pd.Series(False, index=result.index)
            if ho_code is not None:
                no_injury |= codes.reset_index(drop=True).isin(NO_INJURY_CODES).fillna(False).astype(bool)
            if offence is not None:
                no_injury |= text.str.contains(NO_INJURY_TEXT, regex=True).fillna(False).astype(bool)
            result[flagged & (result == "other_violence") & ~no_injury] = "knife_injury"
        return result.astype(str)


def load_offence_map(path: str | Path | None = None) -> OffenceMap:
    path = Path(path) if path else DATA_DIR / "offence_map.csv"
    header, lines = read_lookup_csv(path, "offence mapping")
    if not {"kind", "pattern", "group"} <= set(header):
        raise InputError(f"{path.name}: offence mapping needs columns kind, pattern, group")
    known = offence_groups()
    codes: dict[str, str] = {}
    rules: list[tuple[re.Pattern[str], str]] = []
    for line_no, row in lines:
        group = row["group"]
        if group not in known:
            raise InputError(f"{path.name}: row {line_no}, column group: unknown offence group '{group}'")
        kind = row["kind"]
        if kind == "ho_code":
            codes[row["pattern"]] = group
        elif kind == "text":
            try:
                rules.append((re.compile(row["pattern"], re.IGNORECASE), group))
            except re.error as exc:
                raise InputError(f"{path.name}: row {line_no}, column pattern: bad regular expression ({exc})") from None
        else:
            raise InputError(f"{path.name}: row {line_no}, column kind: expected ho_code or text, got '{kind}'")
    return OffenceMap(codes, tuple(rules))


def load_harm_weights(path: str | Path | None = None) -> pd.DataFrame:
    """Harm weight per offence group (days of custody). A user file must cover every group it uses;
    groups it leaves out keep the default weight, so a partial table never silently zeroes harm."""
    default = _read_default_harm_weights(DATA_DIR / "harm_weights.csv")
    if path is None:
        return default[["group", "weight_days"]]
    user = _read_user_harm_weights(Path(path))
    merged = default[["group", "weight_days"]].set_index("group")
    merged.update(user.set_index("group"))
    return merged.reset_index()


@read_once_per_version
def _read_default_harm_weights(path: Path) -> pd.DataFrame:
    return pd.read_csv(path, comment="#")


@read_once_per_version
def _read_user_harm_weights(path: Path) -> pd.DataFrame:
    """The user's file, checked: columns group, weight_days (the merge with the defaults is done by
    the caller, so an edit to either file applies)."""
    try:
        user = pd.read_csv(path, comment="#")
    except (OSError, ValueError) as exc:
        raise InputError(f"{path.name}: cannot read harm weights ({exc})") from None
    if not {"group", "weight_days"} <= set(user.columns):
        raise InputError(f"{path.name}: harm weights need columns group, weight_days")
    unknown = sorted(set(user["group"]) - set(offence_groups()))
    if unknown:
        raise InputError(f"{path.name}: column group: unknown offence group(s) {', '.join(map(str, unknown))}")
    weights = pd.to_numeric(user["weight_days"], errors="coerce")
    bad = weights.isna() | (weights < 0)
    if bad.any():
        row = int(np.flatnonzero(bad.to_numpy())[0]) + 2
        raise InputError(f"{path.name}: row {row}, column weight_days: not a non-negative number")
    return user.assign(weight_days=weights)[["group", "weight_days"]]
