"""Charts drawn by Vega-Lite: a `Figure` becomes one specification, which pages hand to
vega-embed in the browser and which vl-convert renders to PNG (PDFs) or SVG (standalone HTML)
with no browser at all. The JavaScript comes from the vl-convert wheel, served by our own
server, so charts work on an intranet without internet.

Every number people read on a chart (data labels, axis ticks, tooltips) is written by
`agentladder.formatting`: axis ticks are computed here and labelled through a lookup table,
never by Vega's own number formats.
"""

from __future__ import annotations

import gzip
import json
import math
import unicodedata
from contextlib import ExitStack
from dataclasses import dataclass
from functools import lru_cache
from importlib.resources import as_file
from pathlib import Path
from typing import Any

import noto_cjk_sans_otc
import vl_convert

from agentladder.config import Language
from agentladder.formatting import NumberKind, format_number
from agentladder.reports.charts.schemas import BarChart, Figure, LineChart, Point

PRIMARY = "#0b6e4f"
WARNING = "#d98e04"
INK = "#1f2937"
MUTED = "#6b7280"
GRID = "#e5e7eb"
BAND_SHADES = ("#eef5f1", "#ffffff")
# Noto Sans CJK ships with agentladder (pip), so PNGs render Chinese anywhere; browsers fall
# back to the system's CJK fonts.
FONT_STACK = (
    '"Noto Sans CJK SC", "Source Han Sans SC", "PingFang SC", "Microsoft YaHei", sans-serif'
)
FONT_SIZE_PX = 11
SCHEMA = "https://vega.github.io/schema/vega-lite/v6.json"
# Category labels of a line chart stay level up to this many; more are slanted.
SIDE_BY_SIDE_LABELS = 4
# A band narrower than this on screen has no room for its name.
MIN_BAND_LABEL_PX = 12
# Steps between axis ticks: seconds read best on clock steps.
_DURATION_STEPS_S = (1, 2, 5, 10, 15, 30, 60, 120, 300, 600, 900, 1800, 3600, 7200, 14400)


# --- axis ticks ---------------------------------------------------------------------------


@dataclass(frozen=True)
class Axis:
    """A value axis: its range and the tick values on it."""

    low: float
    high: float
    ticks: tuple[float, ...]


def _step(span: float, kind: NumberKind, count: int) -> float:
    rough = span / max(1, count)
    if kind == "duration":
        return next((s for s in _DURATION_STEPS_S if s >= rough), _DURATION_STEPS_S[-1])
    magnitude = 10 ** math.floor(math.log10(rough)) if rough > 0 else 1.0
    step = next(m * magnitude for m in (1, 2, 2.5, 5, 10) if m * magnitude >= rough)
    return max(step, 1.0) if kind == "int" else step


def value_axis(
    values: list[float],
    kind: NumberKind,
    fixed: tuple[float, float] | None = None,
    from_zero: bool = True,
    count: int = 5,
) -> Axis:
    """Round ticks over a fixed range, or around the values (from zero for bars) with room
    above the highest value for its label."""
    if fixed is not None:
        low, high = fixed
        step = _step(high - low, kind, count)
        first_tick = math.ceil(low / step - 1e-9) * step
    else:
        low = min([0.0, *values]) if from_zero else min(values, default=0.0)
        high = max([*values, 0.0]) if from_zero else max(values, default=1.0)
        pad = (high - low) * 0.12 if high > low else max(abs(high) * 0.1, 1.0)
        high += pad
        if not from_zero:
            low = max(0.0, low - pad) if low >= 0 else low - pad
        step = _step(high - low, kind, count)
        low, high = math.floor(low / step) * step, math.ceil(high / step) * step
        first_tick = low
    ticks: list[float] = []
    tick = first_tick
    while tick <= high + step * 1e-9:
        ticks.append(round(tick, 10))
        tick += step
    return Axis(low, high, tuple(ticks))


def _js_key(value: float) -> str:
    # How JavaScript writes the number, the key Vega looks the label up by.
    return str(int(value)) if float(value).is_integer() else repr(value)


def _axis_labels(axis: Axis, kind: NumberKind, language: Language) -> dict[str, Any]:
    labels = {_js_key(tick): format_number(tick, kind, language) for tick in axis.ticks}
    return {
        "values": list(axis.ticks),
        "labelExpr": f"{json.dumps(labels, ensure_ascii=False)}[datum.value]",
    }


# --- specifications -----------------------------------------------------------------------


def _label(point: Point, kind: NumberKind, language: Language) -> str:
    return point.text if point.text is not None else format_number(point.value, kind, language)


def _base(figure: Figure, width_px: int | None) -> dict[str, Any]:
    return {
        "$schema": SCHEMA,
        "description": figure.description,
        # None: as wide as the page's container (and its resizes).
        "width": "container" if width_px is None else width_px,
        "height": figure.height_px,
        "autosize": {"type": "fit-x" if width_px is None else "pad", "contains": "padding"},
        "background": "white",
        "config": {
            "font": FONT_STACK,
            "view": {"stroke": None},
            "axis": {
                "labelFontSize": FONT_SIZE_PX,
                "titleFontSize": FONT_SIZE_PX,
                "titleFontWeight": "normal",
                "labelColor": INK,
                "titleColor": MUTED,
                "gridColor": GRID,
                "domainColor": MUTED,
                "tickColor": MUTED,
            },
            "text": {"fontSize": FONT_SIZE_PX, "color": INK},
        },
    }


def _line_spec(figure: LineChart, language: Language, width_px: int | None) -> dict[str, Any]:
    kind = figure.kind
    present = [p.value for p in figure.points if p.value is not None]
    reference = [t.value for t in figure.thresholds]
    axis = value_axis(present + reference, kind, figure.value_range, from_zero=False)
    scale = {"domain": [axis.low, axis.high], "nice": False, "zero": False}
    y_axis = {"title": figure.value_title, **_axis_labels(axis, kind, language)}
    categories = [p.category for p in figure.points]
    x = {
        "field": "category",
        "type": "ordinal",
        "sort": categories,
        "title": figure.category_title,
        "axis": {
            # A phone's card holds about four period labels side by side; more are slanted,
            # since vega-embed does not thin them again when the container narrows.
            "labelAngle": 0 if len(categories) <= SIDE_BY_SIDE_LABELS else -40,
            "labelAlign": "center" if len(categories) <= SIDE_BY_SIDE_LABELS else "right",
            "labelOverlap": "parity",
            "labelLimit": 90,
        },
        "scale": {"padding": 0.6},
    }

    def y(field: str, with_axis: bool = False) -> dict[str, Any]:
        return {
            "field": field,
            "type": "quantitative",
            "scale": scale,
            "axis": y_axis if with_axis else None,
        }

    layers: list[dict[str, Any]] = []
    if figure.bands:
        layers += _band_layers(figure, axis, scale)
    for threshold in figure.thresholds:
        row = {"value": threshold.value, "label": threshold.label}
        layers.append(
            {
                "data": {"values": [row]},
                "mark": {"type": "rule", "color": WARNING, "strokeDash": [6, 4], "strokeWidth": 2},
                "encoding": {"y": y("value")},
            }
        )
        layers.append(
            {
                "data": {"values": [row]},
                "mark": {
                    "type": "text",
                    "align": "left",
                    "baseline": "bottom",
                    "dx": 4,
                    "dy": -3,
                    "color": WARNING,
                },
                "encoding": {"y": y("value"), "x": {"value": 0}, "text": {"field": "label"}},
            }
        )
    rows = [
        {"category": p.category, "value": p.value, "text": _label(p, kind, language)}
        for p in figure.points
    ]
    tooltip = [
        {"field": "category", "title": figure.category_title},
        {"field": "text", "title": figure.value_title},
    ]
    layers.append(
        {
            "data": {"values": rows},
            "mark": {
                "type": "line",
                "color": PRIMARY,
                "strokeWidth": 2.5,
                "point": {"color": PRIMARY, "size": 45},
            },
            "encoding": {"x": x, "y": y("value", with_axis=True), "tooltip": tooltip},
        }
    )
    layers.append(
        {
            "data": {"values": [r for r in rows if r["value"] is not None]},
            "mark": {"type": "text", "dy": -10, "color": INK, "fontWeight": "bold"},
            "encoding": {"x": x, "y": y("value"), "text": {"field": "text"}},
        }
    )
    # The bands' names sit on an axis of their own, right of the plot, clear of the line.
    return {**_base(figure, width_px), "layer": layers, "resolve": {"axis": {"y": "independent"}}}


def _band_layers(figure: LineChart, axis: Axis, scale: dict[str, Any]) -> list[dict[str, Any]]:
    """Shaded level bands, named on a right-hand axis where there is room for the name."""
    span = axis.high - axis.low or 1.0
    bands, names = [], {}
    for i, band in enumerate(figure.bands):
        low, high = max(band.low, axis.low), min(band.high, axis.high)
        if high <= low:
            continue
        bands.append({"low": low, "high": high, "fill": BAND_SHADES[i % 2]})
        if (high - low) / span * figure.height_px >= MIN_BAND_LABEL_PX:
            names[(low + high) / 2] = band.label
    labels = {_js_key(middle): label for middle, label in names.items()}
    right_axis = {
        "orient": "right",
        "title": None,
        "grid": False,
        "ticks": False,
        "domain": False,
        "values": list(names),
        "labelColor": MUTED,
        "labelExpr": f"{json.dumps(labels, ensure_ascii=False)}[datum.value]",
    }
    return [
        {
            "data": {"values": bands},
            "mark": {"type": "rect"},
            "encoding": {
                "y": {"field": "low", "type": "quantitative", "scale": scale, "axis": right_axis},
                "y2": {"field": "high"},
                "x": {"value": 0},
                "x2": {"value": "width"},
                "fill": {"field": "fill", "type": "nominal", "scale": None},
            },
        }
    ]


def _bar_spec(figure: BarChart, language: Language, width_px: int | None) -> dict[str, Any]:
    kind = figure.kind
    values = [p.value or 0.0 for p in figure.bars]
    rows = [
        {
            "category": p.category,
            "value": p.value or 0.0,
            # The pyramid's bars grow from the middle.
            "start": -(p.value or 0.0) / 2 if figure.layout == "centred" else 0.0,
            "end": (p.value or 0.0) / 2 if figure.layout == "centred" else (p.value or 0.0),
            "text": _label(p, kind, language),
            "fill": WARNING if p.highlight else PRIMARY,
        }
        for p in figure.bars
    ]
    tooltip = [
        {"field": "category", "title": figure.category_title},
        {"field": "text", "title": figure.value_title},
    ]
    categories = [p.category for p in figure.bars]
    fill = {"field": "fill", "type": "nominal", "scale": None}
    if figure.layout == "centred":
        most = max(values, default=0.0) or 1.0
        scale = {"domain": [-most / 2, most / 2], "nice": False}
        value_enc: dict[str, Any] = {
            "field": "start",
            "type": "quantitative",
            "scale": scale,
            "axis": None,
            "title": figure.value_title,
        }
        end_enc: dict[str, Any] = {"field": "end"}
        label_at = {"field": "end", "type": "quantitative", "scale": scale, "axis": None}
    else:
        axis = value_axis(values, kind, figure.value_range)
        scale = {"domain": [axis.low, axis.high], "nice": False}
        value_enc = {
            "field": "start",
            "type": "quantitative",
            "scale": scale,
            "title": figure.value_title,
            "axis": {"title": figure.value_title, **_axis_labels(axis, kind, language)},
        }
        end_enc = {"field": "end"}
        label_at = {"field": "end", "type": "quantitative", "scale": scale, "axis": None}
    category_axis: dict[str, Any] = {"labelLimit": 170}
    if figure.layout == "vertical":
        category_axis |= {"labelAngle": 0, "labelOverlap": "parity"}
    category = {
        "field": "category",
        "type": "nominal",
        "sort": categories,
        "title": figure.category_title,
        "axis": category_axis,
    }
    if figure.layout == "vertical":
        bar_enc = {"x": category, "y": value_enc, "y2": end_enc, "fill": fill}
        text_mark = {"type": "text", "baseline": "bottom", "dy": -3}
        text_enc = {"x": category, "y": label_at}
    else:
        bar_enc = {"y": category, "x": value_enc, "x2": end_enc, "fill": fill}
        text_mark = {"type": "text", "align": "left", "baseline": "middle", "dx": 4}
        text_enc = {"y": category, "x": label_at}
    layers = [
        {"mark": {"type": "bar", "cornerRadius": 2}, "encoding": {**bar_enc, "tooltip": tooltip}},
        {"mark": text_mark, "encoding": {**text_enc, "text": {"field": "text"}}},
    ]
    spec = {**_base(figure, width_px), "data": {"values": rows}, "layer": layers}
    if figure.layout != "vertical":
        # Room right of the longest bar for its label: a container-wide chart would clip it.
        widest = max((_text_px(_label(p, kind, language)) for p in figure.bars), default=0.0)
        spec["padding"] = {"left": 5, "top": 5, "bottom": 5, "right": round(widest) + 10}
    return spec


def _text_px(text: str) -> float:
    """About how wide a label is drawn (CJK characters full width)."""
    return sum(
        FONT_SIZE_PX if unicodedata.east_asian_width(ch) in "WF" else FONT_SIZE_PX * 0.6
        for ch in text
    )


def vega_lite(figure: Figure, language: Language, width_px: int | None = None) -> dict[str, Any]:
    """The figure as a Vega-Lite specification; `width_px` None fits the page's container."""
    if isinstance(figure, LineChart):
        return _line_spec(figure, language, width_px)
    return _bar_spec(figure, language, width_px)


# --- rendering without a browser ------------------------------------------------------------


@lru_cache(maxsize=1)
def _fonts_registered() -> bool:
    # vl-convert looks fonts up by family name in the directories it is told about.
    with ExitStack() as stack:
        font_path = Path(stack.enter_context(as_file(noto_cjk_sans_otc.FONT_PATH)))
        vl_convert.register_font_directory(str(font_path.parent))
    return True


def render_png(figure: Figure, language: Language, width_px: int, scale: float = 2.0) -> bytes:
    """The figure as a PNG `width_px` wide (times `scale` pixels, sharp on paper)."""
    _fonts_registered()
    return bytes(vl_convert.vegalite_to_png(vega_lite(figure, language, width_px), scale=scale))


def render_svg(figure: Figure, language: Language, width_px: int) -> str:
    """The figure as a standalone SVG document."""
    _fonts_registered()
    return str(vl_convert.vegalite_to_svg(vega_lite(figure, language, width_px)))


# --- the browser's script -------------------------------------------------------------------


@dataclass(frozen=True)
class Script:
    """The charting JavaScript served to browsers, plain and gzipped."""

    body: bytes
    gzipped: bytes


@lru_cache(maxsize=1)
def browser_script() -> Script:
    """Vega, Vega-Lite and vega-embed bundled from the installed vl-convert wheel, as globals
    (`vegaEmbed`); built once per process (about 3 s, 0.9 MB). Bundling a snippet of ours
    with it takes five times as long, so the page's own script is a separate file."""
    # The wheel's type stub omits the default: without a snippet it returns its prebuilt bundle.
    body = vl_convert.javascript_bundle().encode("utf-8")  # type: ignore[call-arg]
    return Script(body, gzip.compress(body, 6))


@lru_cache(maxsize=1)
def script_version() -> str:
    """A tag that changes with the chart libraries, for the script's cache-busting URL (known
    without building the bundle)."""
    return "-".join(
        (
            vl_convert.get_vega_version(),
            vl_convert.get_vegalite_versions()[-1],
            vl_convert.get_vega_embed_version(),
        )
    )
