"""The trial protocol: one page written when the schedule is made, like a pre-registration (issue 28).

It fixes before the first patrol day what will be compared and how: hotspots, dates, arms and their
shares, the seed, the primary outcome and analysis, the secondary analyses, and the minimum
detectable effect, so the evaluation cannot be bent to the result afterwards. Written as Markdown
(for the record and review) and as an A4 PDF (matplotlib, offline, like the patrol briefings). Data
text (hotspot and set names) is escaped for matplotlib (render.text_safety) and, in Markdown, for
Markdown, so a name cannot become a link or markup.
"""
from __future__ import annotations

import io
import textwrap

import pandas as pd

from hotspot_engine.analyse.trial_design import DESIGN_NAME
from hotspot_engine.analyse.trial_ri import DEFAULT_PERMUTATIONS
from hotspot_engine.render.text_safety import markdown_plain, matplotlib_plain

PRIMARY = ("Incidents in each hotspot's cells on its patrol days against its control days, by "
           "the scheduled arm whatever was delivered (intention to treat); also harm (weighted incidents).")
ANALYSIS = ("Poisson model of daily counts with hotspot fixed effects and day of week; 95% interval "
            "cluster-robust by hotspot (t, hotspots - 1 df); pooled and per hotspot. Washout days left out. "
            f"Beside it, randomisation inference: the schedule re-drawn {DEFAULT_PERMUTATIONS:,} times inside its "
            "own blocks (Mantel-Haenszel rate ratio), its p-value and interval.")
SECONDARY = ("Labelled as such: per protocol by delivered visits (a visit of at least 10 minutes); "
             "residual deterrence (hours to the next incident after a visit, by visit length); displacement to "
             "the buffer (cells within 2 rings) on patrol days; a CONSORT-style flow of days scheduled, delivered "
             "and contaminated (control days visited anyway).")
DELIVERY = ("Compliance = patrol days with a visit (patrol log or GPS) in the hotspot; control days say "
            "'no dedicated patrol' on the plan and briefings.")


def protocol_lines(trial, name: str, esc=str) -> list[tuple[str, str]]:
    """(heading, text) pairs, in order, shared by the Markdown and the PDF; ``esc`` escapes the
    text that comes from data (the trial's and the set's names)."""
    d, p = trial.design, trial.power
    spots = trial.schedule.drop_duplicates("hotspot_id")
    shares = trial.schedule.groupby("hotspot_id")["arm"].apply(lambda a: (a == "patrol").mean())
    return [
        ("Trial", f"{esc(name)}: randomised patrol days on hotspot set '{esc(trial.set_name)}'"),
        ("Dates", f"{d.first:%d %b %Y} to {d.last:%d %b %Y} ({d.days} days), {len(spots)} hotspots, "
                  f"{len(trial.schedule):,} place-days"),
        ("Design", f"{DESIGN_NAME}; blocks of {d.block_weeks} weeks; patrol share {d.patrol_share:.0%} "
                   f"(realised {shares.min():.0%}-{shares.max():.0%} per hotspot); washout {d.washout_days} day(s); "
                   f"seed {d.seed} (numpy PCG64): the same seed and design give the same schedule"),
        ("Outcome", PRIMARY),
        ("Analysis", ANALYSIS),
        ("Secondary", SECONDARY),
        ("Delivery", DELIVERY),
        ("Power", p.line()),
        ("History", trial.history),
    ]


def _hotspot_rows(trial) -> pd.DataFrame:
    """One row per hotspot in the set's order (its '#n' numbers), not the ids' alphabetical order: on the
    real Hampshire set the table read #1, #18, #3, #5, ..."""
    s = trial.schedule
    rows = s.groupby(["hotspot_id", "hotspot_name"], as_index=False).agg(
        patrol=("arm", lambda a: int((a == "patrol").sum())), control=("arm", lambda a: int((a == "control").sum())))
    number = pd.to_numeric(rows["hotspot_name"].astype(str).str.extract(r"^#(\d+)\b")[0], errors="coerce")
    return rows.assign(_n=number).sort_values(["_n", "hotspot_id"], na_position="last").drop(columns="_n")


def protocol_markdown(trial, name: str) -> str:
    """The protocol as Markdown (data text escaped)."""
    out = [f"# Trial protocol: {markdown_plain(name)}", "", "Written when the schedule was made, before the start.", ""]
    for heading, text in protocol_lines(trial, name, markdown_plain):
        out += [f"**{heading}.** {text}", ""]
    out += ["| hotspot | name | patrol days | control days |", "|---|---|---:|---:|"]
    for r in _hotspot_rows(trial).itertuples(index=False):
        out.append(f"| {markdown_plain(r.hotspot_id)} | {markdown_plain(r.hotspot_name)} | {r.patrol} | {r.control} |")
    return "\n".join(out) + "\n"


def _calendar(fig, trial) -> None:
    """The schedule as a strip per hotspot: black patrol, white control (prints in black and white)."""
    s = trial.schedule
    rows = _hotspot_rows(trial)
    order = rows["hotspot_id"].tolist()
    # Labelled by the set's numbers where the names carry them: a whole real id ran off the page's margin.
    numbers = rows["hotspot_name"].astype(str).str.extract(r"^(#\d+)\b")[0]
    labels = [n if isinstance(n, str) else matplotlib_plain(h) for n, h in zip(numbers, order)]
    grid = s.pivot(index="hotspot_id", columns="date", values="arm").eq("patrol").reindex(order).to_numpy(float)
    ax = fig.add_axes((0.06, 0.06, 0.88, 0.17))
    ax.imshow(grid, aspect="auto", cmap="Greys", vmin=0, vmax=1, interpolation="nearest")
    ax.set_yticks(range(grid.shape[0]), labels, fontsize=5)
    dates = sorted(s["date"].unique())
    step = max(1, len(dates) // 8)
    ax.set_xticks(range(0, len(dates), step), [f"{pd.Timestamp(d):%d %b}" for d in dates[::step]], fontsize=6)
    ax.set_title("Schedule: black = patrol day, white = control day (no dedicated patrol)", fontsize=8, loc="left")


def protocol_pdf(trial, name: str, synthetic: bool = False) -> bytes:
    """The protocol on one A4 page."""
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.backends.backend_pdf import PdfPages
    from matplotlib.figure import Figure

    fig = Figure(figsize=(8.27, 11.69))
    FigureCanvasAgg(fig)
    fig.text(0.06, 0.965, "Trial protocol (pre-registration)", fontsize=16, fontweight="bold", va="top")
    if synthetic:
        fig.text(0.94, 0.965, "SYNTHETIC SAMPLE DATA", fontsize=9, fontweight="bold", ha="right", va="top")
    y = 0.93
    for heading, text in protocol_lines(trial, name, matplotlib_plain):
        lines = textwrap.wrap(text, 108)
        fig.text(0.06, y, heading, fontsize=8.5, fontweight="bold", va="top")
        fig.text(0.19, y, "\n".join(lines), fontsize=8, va="top", linespacing=1.35)
        y -= 0.0135 * len(lines) + 0.012
    rows = _hotspot_rows(trial)
    fig.text(0.06, y - 0.005, "Hotspots and their days", fontsize=9, fontweight="bold", va="top")
    size = 7 if len(rows) <= 30 else max(4.0, 7 * 30 / len(rows))
    # The ids at full length (real set ids are 'HS-' + 11 hex digits: cut to 9 characters all 19 read 'HS-891959').
    width = max([8, *(len(matplotlib_plain(h)) for h in rows["hotspot_id"])]) + 2
    name_width = 62 - width
    lines = [f"{'hotspot':<{width}}{'name':<{name_width}}{'patrol':>7}{'control':>9}"]
    lines += [f"{matplotlib_plain(r.hotspot_id):<{width}}{matplotlib_plain(r.hotspot_name)[:name_width - 2]:<{name_width}}"
              f"{r.patrol:>7}{r.control:>9}" for r in rows.itertuples(index=False)]
    fig.text(0.06, y - 0.025, "\n".join(lines), fontsize=size, family="monospace", va="top", linespacing=1.3)
    _calendar(fig, trial)
    fig.text(0.06, 0.02, "Made by Hotspot. The schedule (CSV) and its methods sidecar sit beside this file.",
             fontsize=6.5, color="#333333")
    buffer = io.BytesIO()
    with PdfPages(buffer) as pdf:
        pdf.savefig(fig)
        pdf.infodict()["Title"] = "Trial protocol"
    return buffer.getvalue()


__all__ = ["protocol_lines", "protocol_markdown", "protocol_pdf"]
