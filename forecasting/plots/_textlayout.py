"""Lay each text out once per render, and measure each string once per process.

Matplotlib lays a text out (its lines, their sizes, the font's ascent and descent) every
time something asks for its size, and a legend's nested boxes ask five or six times per
entry and render.  Measuring a string (FreeType shaping it) takes a few tenths of a
millisecond, and each render measures every string afresh.  Most of the time of a chart
with a long legend went there.

:func:`text_layout_once` remembers, for the duration of one layout pass or render, each
text's layout, keyed on everything the layout depends on; and it measures plain strings
through :class:`_Measuring`, which remembers the measurements of the Agg (layout, PNG) and
SVG renderers for the whole process, keyed on the renderer kind and dpi, the string, the
font files and properties and the text rcParams.  The drawing is the same, only faster.
It sets an attribute on the figure's own :class:`~matplotlib.text.Text` objects and
removes it afterwards; matplotlib itself is not changed.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from typing import Any

import matplotlib as mpl
from matplotlib.figure import Figure
from matplotlib.font_manager import fontManager
from matplotlib.text import Text

__all__ = ["text_layout_once"]

_ATTR = "_get_layout"  # the Text method that lays a text out for a renderer

#: renderers whose measurement of a plain string depends only on the string, the font, the
#: text rcParams and (Agg) the dpi (by name: importing the backends here would be slow)
_PLAIN_MEASURES = frozenset(
    {"matplotlib.backends.backend_agg.RendererAgg", "matplotlib.backends.backend_svg.RendererSVG"}
)

_MIXED = "matplotlib.backends.backend_mixed.MixedModeRenderer"

_TEXT_RC = ("text.hinting", "text.hinting_factor", "text.kerning_factor", "text.language")

_MEASURED: dict[tuple[Any, ...], Any] = {}  # (kind, string, font, rc) -> (w, h, descent)

_MEASURED_MAX = 50_000  # then start again: a report measures about a thousand strings


class _Measuring:
    """A renderer as a text's layout sees it: measurements of plain strings come from (and
    go to) the process-wide memo; everything else is the renderer's own."""

    __slots__ = ("__weakref__", "kind", "renderer")

    def __init__(self, renderer: Any, kind: tuple[Any, ...]) -> None:
        self.renderer, self.kind = renderer, kind

    def __getattr__(self, name: str) -> Any:
        return getattr(self.renderer, name)

    def get_text_width_height_descent(self, s: str, prop: Any, ismath: Any) -> Any:
        if ismath:  # mathtext and TeX read more settings: measure as usual
            return self.renderer.get_text_width_height_descent(s, prop, ismath)
        fonts = tuple(fontManager._find_fonts_by_props(prop))
        settings: Any = mpl.rcParams
        rc = tuple(settings.get(k) for k in _TEXT_RC)
        key = (self.kind, s, hash(prop), prop.get_size_in_points(), fonts, rc)
        found = _MEASURED.get(key)
        if found is None:
            found = self.renderer.get_text_width_height_descent(s, prop, ismath)
            if len(_MEASURED) >= _MEASURED_MAX:
                _MEASURED.clear()
            _MEASURED[key] = found
        return found


def _measuring(renderer: Any) -> Any:
    """``renderer`` wrapped in :class:`_Measuring` when its measurements can be shared."""
    inner = renderer._renderer if _class_name(renderer) == _MIXED else renderer
    kind = _class_name(inner)
    if kind not in _PLAIN_MEASURES:
        return renderer
    return _Measuring(renderer, (kind, getattr(inner, "dpi", None)))


def _class_name(obj: object) -> str:
    return f"{type(obj).__module__}.{type(obj).__qualname__}"


class _LayoutOnce:
    """Stands in for ``text._get_layout`` during one render."""

    __slots__ = ("cache", "renderers", "text")

    def __init__(self, text: Text, renderers: dict[int, tuple[Any, Any]]) -> None:
        self.text = text
        self.renderers = renderers  # shared by the texts of the render: id -> (it, wrapped)
        self.cache: dict[tuple[Any, ...], tuple[Any, Any, Any]] = {}

    def key(self, renderer: Any) -> tuple[Any, ...]:
        t: Any = self.text
        return (
            renderer,  # held, so that no other renderer can take its id during the render
            t._get_wrapped_text(),
            hash(t.get_fontproperties()),
            t.get_usetex(),
            t.get_parse_math(),
            t._linespacing,
            t.get_rotation(),
            t.get_rotation_mode(),
            t.get_horizontalalignment(),
            t.get_verticalalignment(),
            t._get_multialignment(),
            t.get_figure(root=True).dpi,
        )

    def __call__(self, renderer: Any, *args: Any, **kwargs: Any) -> tuple[Any, Any, Any]:
        layout = getattr(Text, _ATTR)
        if args or kwargs:  # a signature this was not written for: lay out as usual
            return layout(self.text, renderer, *args, **kwargs)
        key = self.key(renderer)
        found = self.cache.get(key)
        if found is None:
            held = self.renderers.get(id(renderer))
            if held is None or held[0] is not renderer:
                held = self.renderers[id(renderer)] = (renderer, _measuring(renderer))
            found = self.cache[key] = layout(self.text, held[1])
        bbox, lines, box = found
        return bbox.frozen(), list(lines), box  # copies: callers get their own bbox


@contextlib.contextmanager
def text_layout_once(fig: Figure) -> Iterator[None]:
    """While the block runs, each text of ``fig`` that exists when it starts is laid out
    once per renderer and set of text properties; afterwards the texts are as before."""
    if not hasattr(Text, _ATTR):  # pragma: no cover - a matplotlib without the method
        yield
        return
    renderers: dict[int, tuple[Any, Any]] = {}
    texts = [t for t in fig.findobj(Text) if _ATTR not in vars(t)]
    for t in texts:
        setattr(t, _ATTR, _LayoutOnce(t, renderers))
    try:
        yield
    finally:
        for t in texts:
            vars(t).pop(_ATTR, None)
