"""Rendering: :func:`figure_to_svg` (an inline ``<svg>`` for HTML pages under a strict
Content-Security-Policy, the same text for the same drawing) and :func:`save_png`."""

from __future__ import annotations

import contextlib
import hashlib
import html
import io
import re
from pathlib import Path
from typing import Any

import matplotlib as mpl
from matplotlib.axes import Axes
from matplotlib.figure import Figure, SubFigure

from forecasting.errors import ReportError

from ._textlayout import text_layout_once

__all__ = ["figure_to_svg", "save_png"]

_TOKEN = re.compile(r"[A-Za-z][A-Za-z0-9_-]{0,63}")

_METADATA: dict[str, Any] = {"Date": None, "Creator": None, "Format": None, "Type": None}

_REF = re.compile(r'(\sid="|href="#|url\(#)')  # an id, or a reference to one

_TAG_WITH_REF = re.compile(r'<[^>]*?(?:\sid="|href="#|url\(#)[^>]*>')

_ROOT = re.compile(r"<svg\b[^>]*>")


def _prefix_ids(text: str, token: str) -> str:
    """Prefix every id, and every reference to one, with ``token-`` (inside tags only: text
    shown on the chart stays as it is)."""
    return _TAG_WITH_REF.sub(lambda m: _REF.sub(rf"\g<1>{token}-", m.group(0)), text)


_HASHED_ID = re.compile(r'(?<=id=")([mph])[0-9a-f]{10}(?=")')


def _frozen(fig: Figure) -> Figure:
    """Lay the figure out once and freeze it: constrained layout would otherwise move things
    by a hair on every render, and the same figure must always give the same text."""
    engine = fig.get_layout_engine()
    if engine is not None and not getattr(fig, "_fc_frozen", False):
        if fig.axes:  # what Figure.draw does first (and it ignores a ValueError too)
            with contextlib.suppress(ValueError), text_layout_once(fig):
                engine.execute(fig)
        fig.set_layout_engine("none")
        fig._fc_frozen = True  # type: ignore[attr-defined]
    return fig


def _render_svg(fig: Figure, salt: str) -> str:
    buffer = io.StringIO()
    with mpl.rc_context({"svg.fonttype": "none", "svg.hashsalt": salt}), text_layout_once(fig):
        fig.savefig(buffer, format="svg", metadata=_METADATA)
    text = buffer.getvalue()
    text = text[text.index("<svg") :]
    text = re.sub(r"<!--.*?-->", "", text, flags=re.DOTALL)
    text = re.sub(r"<metadata>.*?</metadata>\s*", "", text, flags=re.DOTALL)
    return _renumber_hashed_ids(text)


def _renumber_hashed_ids(text: str) -> str:
    """Replace matplotlib's hashed clip-path, marker and hatch ids by numbers in order of
    appearance: the hashes see layout floats beyond the precision written to the file, so
    they change between renders of the same drawing."""
    kinds = {"m": "marker", "p": "clip", "h": "hatch"}
    names: dict[str, str] = {}
    counts = dict.fromkeys(kinds, 0)
    for match in _HASHED_ID.finditer(text):
        old, kind = match.group(0), match.group(1)
        if old not in names:
            counts[kind] += 1
            names[old] = f"{kinds[kind]}{counts[kind]}"
    if not names:
        return text
    pattern = re.compile(r'(?<=["#])(' + "|".join(names) + r')(?=["\)])')
    return pattern.sub(lambda m: names[m.group(0)], text)


def _root_figure(fig: Figure | SubFigure | Axes) -> Figure:
    current: Any = fig
    for _ in range(100):  # an axes sits in (sub)figures nested in one root figure
        if isinstance(current, Figure):
            return current
        if not isinstance(current, Axes | SubFigure):
            break
        current = current.figure
    raise ReportError(f"expected a matplotlib Figure or Axes; got {type(fig).__name__}")


def _figure_label(fig: Figure) -> str:
    titles = [ax.get_title(loc) for ax in fig.axes for loc in ("left", "center", "right")]
    text = " / ".join(t.replace("\n", " ").replace(r"\$", "$") for t in titles if t)
    return text or "chart"


def figure_to_svg(
    fig: Figure | SubFigure | Axes,
    *,
    token: str | None = None,
    responsive: bool = True,
    label: str | None = None,
) -> str:
    """The figure (or the figure of an axes, e.g. a chart's return value) as an inline
    ``<svg>`` element for an HTML page.

    No XML declaration, DOCTYPE, comments or metadata, and no external references; text
    stays text (``svg.fonttype = 'none'``).  Every ``id`` (and every reference to one) is
    prefixed with ``token``, so several charts can share a page; the default token is a hash
    of the drawing, so the output is the same for the same figure.  The root element gets
    ``id=token``, ``role="img"`` and an ``aria-label`` (``label``, else the axes titles), and
    matplotlib's ``<style>`` rule is scoped to it.  ``responsive`` makes the chart shrink
    with the page (``width="100%"`` up to its natural width).  Works under a
    Content-Security-Policy of ``default-src 'none'; style-src 'unsafe-inline'``.
    """
    fig = _root_figure(fig)
    if token is not None and not _TOKEN.fullmatch(token):
        raise ReportError(
            "token must start with a letter and hold only letters, digits, '-' and '_' "
            f"(at most 64); got {token!r}"
        )
    text = _render_svg(_frozen(fig), token or "forecasting-plots")
    if token is None:
        token = "fc" + hashlib.sha256(text.encode("utf-8")).hexdigest()[:12]
    text = _prefix_ids(text, token)
    text = text.replace('<style type="text/css">*{', f'<style type="text/css">#{token} *{{')

    root = _ROOT.search(text)
    if root is None:  # pragma: no cover - matplotlib always writes one
        raise ReportError("matplotlib wrote no <svg> element")
    attrs = root.group(0)[len("<svg") : -1]
    width = re.search(r'\swidth="([^"]*)"', attrs)
    attrs = re.sub(r'\s(width|height)="[^"]*"', "", attrs) if responsive else attrs
    aria = html.escape(label if label is not None else _figure_label(fig), quote=True)
    extra = f' id="{token}" class="fc-plot" role="img" aria-label="{aria}"'
    if responsive and width is not None:
        extra += f' width="100%" style="max-width: {width.group(1)}; height: auto"'
    text = "<svg" + attrs + extra + ">" + text[root.end() :]
    return text.strip() + "\n"


def save_png(fig: Figure | SubFigure | Axes, path: str | Path, dpi: int = 150) -> Path:
    """Write the figure (or the figure of an axes) as a PNG with a tight bounding box and
    return the path."""
    fig = _frozen(_root_figure(fig))
    target = Path(path)
    with text_layout_once(fig):
        fig.savefig(
            target,
            format="png",
            dpi=dpi,
            bbox_inches="tight",
            pad_inches=0.08,
            metadata={"Software": None},
        )
    return target
