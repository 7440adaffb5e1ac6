"""Probabilities as analysts write them: numbers, percentages, odds and estimative words.

Words of estimative probability
-------------------------------
The table follows the ranges of US Intelligence Community Directive 203 (ICD 203,
"Analytic Standards", 2015).  A word maps to its range; the point value recorded is the
middle of the range, and the word itself is kept beside the number.

=========================================  ===========  =====
word (synonyms)                            range        point
=========================================  ===========  =====
almost no chance (remote)                  0.01–0.05    0.03
very unlikely (highly improbable)          0.05–0.20    0.125
unlikely (improbable)                      0.20–0.45    0.325
roughly even chance (roughly even odds)    0.45–0.55    0.50
likely (probable)                          0.55–0.80    0.675
very likely (highly probable)              0.80–0.95    0.875
almost certain (nearly certain)            0.95–0.99    0.97
=========================================  ===========  =====

Phrases in analytic prose map to these words through :data:`ESTIMATIVE_PHRASES`.  Hedges
such as *could*, *may*, *might* or *threaten to* have no calibrated meaning: they map to
``None`` and are recorded as hedges, never scored.
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Protocol

from .errors import InvalidForecastError

if TYPE_CHECKING:  # NumPy itself is imported inside the functions that need it
    import numpy as np
    from numpy.typing import ArrayLike, NDArray

__all__ = [
    "ESTIMATIVE_PHRASES",
    "HEDGES",
    "WEP_TABLE",
    "Distribution",
    "EstimativeWord",
    "QuantileDistribution",
    "distribution_from_value",
    "expit",
    "logit",
    "parse_probability",
    "phrase_to_word",
]


@dataclass(frozen=True)
class EstimativeWord:
    word: str
    low: float
    high: float

    @property
    def point(self) -> float:
        return (self.low + self.high) / 2


_WEP = [
    (("almost no chance", "remote"), 0.01, 0.05),
    (("very unlikely", "highly improbable"), 0.05, 0.20),
    (("unlikely", "improbable"), 0.20, 0.45),
    (
        (
            "roughly even chance",
            "roughly even odds",
            "even chance",
            "even odds",
            "toss-up",
            "toss up",
            "coin flip",
            "50-50",
            "fifty-fifty",
        ),
        0.45,
        0.55,
    ),
    (("likely", "probable"), 0.55, 0.80),
    (("very likely", "highly probable"), 0.80, 0.95),
    (("almost certain", "nearly certain", "almost certainly"), 0.95, 0.99),
]

#: word (lower case) -> EstimativeWord; synonyms share their canonical word's range.
WEP_TABLE: dict[str, EstimativeWord] = {}
for _names, _lo, _hi in _WEP:
    for _name in _names:
        WEP_TABLE[_name] = EstimativeWord(_names[0], _lo, _hi)

#: Phrases of analytic prose and the estimative word they are read as.  ``None`` marks a
#: hedge with no calibrated meaning.  "is expected to" and "is set to" are not ICD 203
#: words; this project reads them as "likely" and "very likely" respectively.
ESTIMATIVE_PHRASES: dict[str, str | None] = {
    "is likely to": "likely",
    "are likely to": "likely",
    "likely": "likely",
    "is expected to": "likely",
    "are expected to": "likely",
    "is set to": "very likely",
    "is unlikely to": "unlikely",
    "are unlikely to": "unlikely",
    "unlikely": "unlikely",
    "could": None,
    "may": None,
    "might": None,
    "potentially": None,
    "threaten to": None,
    "threatens to": None,
    "possible": None,
}

#: Phrases that are hedges (no calibrated probability).
HEDGES = frozenset(k for k, v in ESTIMATIVE_PHRASES.items() if v is None)


def phrase_to_word(phrase: str) -> EstimativeWord | None:
    """Map an estimative phrase to its word, or ``None`` for a hedge.

    >>> phrase_to_word("is likely to").word
    'likely'
    >>> phrase_to_word("could") is None
    True
    """
    key = " ".join(phrase.lower().split())
    if key not in ESTIMATIVE_PHRASES:
        raise InvalidForecastError(
            f"estimative phrase: {phrase!r} is not in the table; known phrases: "
            + ", ".join(sorted(ESTIMATIVE_PHRASES))
        )
    word = ESTIMATIVE_PHRASES[key]
    return None if word is None else WEP_TABLE[word]


_NUM = r"[0-9]*\.?[0-9]+(?:[eE][-+]?[0-9]+)?"


def parse_probability(text: str | float, *, field: str = "probability") -> tuple[float, str | None]:
    """Parse ``0.35``, ``35%``, odds ``1:3`` (for:against) or a word such as ``likely``.

    Returns ``(p, word)``; ``word`` is the canonical estimative word or ``None``.
    Exact 0 and 1 are refused: they cannot be scored by the log score and claim a certainty
    no analyst has.

    >>> parse_probability("35%")
    (0.35, None)
    >>> parse_probability("1:3")
    (0.25, None)
    >>> parse_probability("likely")
    (0.675, 'likely')
    >>> parse_probability("1 in 4")
    (0.25, None)
    >>> parse_probability("toss-up")
    (0.5, 'roughly even chance')
    """
    word: str | None = None
    plain = isinstance(text, (int, float)) and not isinstance(text, bool)
    if plain:
        p = float(text)
    else:
        s = " ".join(str(text).strip().lower().split())
        plain = re.fullmatch(_NUM, s) is not None
        if s in WEP_TABLE:
            entry = WEP_TABLE[s]
            p, word = entry.point, entry.word
        else:
            p = _parse_number_form(s, text, field)
    hint = ""
    if plain and 1.0 < p < 100.0:  # a percentage without its sign?
        hint = f"; did you mean {p:g}%? Write {p:g}% or {p / 100:g}"
    check_probability(p, field=field, raw=text, hint=hint)
    return p, word


def _parse_number_form(s: str, text: object, field: str) -> float:
    """``35%``, odds ``1:3``, ``1 in 3``, ``1/3`` or a plain number (``s`` is normalised)."""
    if re.fullmatch(_NUM + r"\s*%", s):
        return float(s.rstrip("%").strip()) / 100
    if m := re.fullmatch(rf"({_NUM})\s*:\s*({_NUM})", s):
        a, b = float(m.group(1)), float(m.group(2))
        if a < 0 or b < 0 or a + b == 0:
            raise InvalidForecastError(
                f"{field}: odds {text!r} must be two non-negative numbers, not both 0, e.g. 1:3"
            )
        return a / (a + b)
    if m := re.fullmatch(rf"({_NUM})\s*(?:in|out of|/)\s*({_NUM})", s):
        a, b = float(m.group(1)), float(m.group(2))
        if b == 0:
            raise InvalidForecastError(f"{field}: {text!r} divides by zero; write e.g. 1 in 3")
        return a / b
    if re.fullmatch(_NUM, s) or s in {"nan", "inf", "-inf"}:
        return float(s)
    raise InvalidForecastError(
        f"{field}: {text!r} is not a probability; write 0.35, 35%, odds 1:3, or a word such as "
        f"{', '.join(repr(w) for w in ('unlikely', 'toss-up', 'likely', 'very likely'))} "
        "(1 in 3 works too)"
    )


def check_probability(
    p: float, *, field: str = "probability", raw: object = None, hint: str = ""
) -> float:
    """Refuse NaN, and anything outside the open interval (0, 1)."""
    shown = raw if raw is not None else p
    if not math.isfinite(p) or not 0.0 < p < 1.0:
        raise InvalidForecastError(
            f"{field}: {shown!r} is not allowed; a probability must lie strictly between 0 and 1 "
            f"(e.g. 0.01 to 0.99; exact 0 and 1 are refused){hint}"
        )
    return p


def logit(p: ArrayLike) -> NDArray[np.float64]:
    """Log-odds ``ln(p / (1 − p))`` of ``p`` (arrays or floats).

    >>> logit([0.5, 0.75])
    array([0.        , 1.09861229])
    """
    import numpy as np

    q = np.asarray(p, dtype=float)
    return np.log(q) - np.log1p(-q)


def expit(x: ArrayLike) -> NDArray[np.float64]:
    """Inverse of :func:`logit`: ``1 / (1 + e^(−x))``.

    >>> expit([0.0, 1.0986122886681098])
    array([0.5 , 0.75])
    """
    import numpy as np

    z = np.asarray(x, dtype=float)
    return 1.0 / (1.0 + np.exp(-z))


def strictly_increasing(values: ArrayLike) -> list[float]:
    """Nudge tied quantile values (a discrete predictive has them) up by a tiny step, so
    the quantile set is strictly increasing as the journal requires.

    >>> strictly_increasing([3, 3, 5])
    [3.0, 3.000001, 5.0]
    """
    import numpy as np

    v = np.asarray(values, dtype=float)
    step = max(1e-6, 1e-9 * float(np.max(np.abs(v))) if v.size else 1e-6)
    out: list[float] = []
    for x in v:
        out.append(float(x) if not out else float(max(x, out[-1] + step)))
    return out


class Distribution(Protocol):
    """What :func:`distribution_from_value` returns: a frozen SciPy distribution or a
    :class:`QuantileDistribution`, both with these methods."""

    def cdf(self, x: ArrayLike) -> Any: ...

    def ppf(self, q: ArrayLike) -> Any: ...

    def mean(self) -> Any: ...


class QuantileDistribution:
    """A distribution known only by a few quantiles.

    The CDF is linear between the given quantiles.  Beyond the outermost ones it continues
    with the slope of the outermost segment until it reaches 0 or 1.  That keeps the density
    finite and the support bounded, which is what a forecaster who gave three quantiles said.

    >>> d = QuantileDistribution([0.25, 0.5, 0.75], [1.0, 2.0, 3.0])
    >>> d.cdf([0.0, 1.5, 2.0, 4.0])
    array([0.   , 0.375, 0.5  , 1.   ])
    >>> d.ppf([0.0, 0.5, 1.0])
    array([0., 2., 4.])
    >>> d.pdf([1.5, 5.0])
    array([0.25, 0.  ])
    >>> d.mean()
    2.0
    """

    def __init__(self, levels: list[float], values: list[float]) -> None:
        import numpy as np

        lv = np.asarray(levels, dtype=float)
        vv = np.asarray(values, dtype=float)
        if lv.ndim != 1 or lv.shape != vv.shape or lv.size < 2:
            raise InvalidForecastError("quantiles: levels and values must be equal-length lists")
        lo_slope = (vv[1] - vv[0]) / (lv[1] - lv[0]) if lv[1] > lv[0] else 0.0
        hi_slope = (vv[-1] - vv[-2]) / (lv[-1] - lv[-2]) if lv[-1] > lv[-2] else 0.0
        x0 = vv[0] - lo_slope * lv[0]
        x1 = vv[-1] + hi_slope * (1 - lv[-1])
        self.levels = np.concatenate([[0.0], lv, [1.0]])
        self.values = np.concatenate([[x0], vv, [x1]])

    def cdf(self, x: ArrayLike) -> NDArray[np.float64] | np.float64:
        """The CDF (linear between the quantiles, 0 and 1 beyond the support); a scalar
        for a scalar ``x``."""
        import numpy as np

        return np.interp(np.asarray(x, dtype=float), self.values, self.levels, left=0.0, right=1.0)

    def ppf(self, q: ArrayLike) -> NDArray[np.float64] | np.float64:
        """The quantile function, the inverse of :meth:`cdf`; a scalar for a scalar ``q``."""
        import numpy as np

        return np.interp(np.asarray(q, dtype=float), self.levels, self.values)

    def pdf(self, x: ArrayLike) -> NDArray[np.float64]:
        """The density: constant between neighbouring quantiles, 0 outside the support."""
        import numpy as np

        x = np.asarray(x, dtype=float)
        dv = np.diff(self.values)
        dens = np.where(dv > 0, np.diff(self.levels) / np.where(dv > 0, dv, 1.0), 0.0)
        idx = np.searchsorted(self.values, x, side="right") - 1
        inside = (idx >= 0) & (idx < dens.size)
        return np.where(inside, dens[np.clip(idx, 0, dens.size - 1)], 0.0)

    def mean(self) -> float:
        """The mean (each linear piece contributes its midpoint times its mass)."""
        import numpy as np

        mids = (self.values[1:] + self.values[:-1]) / 2
        return float(np.sum(mids * np.diff(self.levels)))


#: named distribution -> (scipy constructor name, parameter names in order)
NAMED_DISTRIBUTIONS: dict[str, tuple[str, ...]] = {
    "normal": ("mu", "sigma"),
    "lognormal": ("mu", "sigma"),
    "uniform": ("lower", "upper"),
    "negbinom": ("n", "p"),
    "poisson": ("mu",),
    "beta": ("a", "b"),
    "gamma": ("shape", "scale"),
    "t": ("df", "loc", "scale"),
}


def distribution_from_value(value: dict[str, Any]) -> Distribution:
    """Turn a numeric forecast value (quantiles or a named distribution) into an object
    with ``cdf``, ``ppf`` and ``mean`` (and ``pdf`` where a density exists).

    >>> d = distribution_from_value({"distribution": {"name": "normal",
    ...                                                "params": {"mu": 1.0, "sigma": 2.0}}})
    >>> float(d.cdf(1.0)), float(d.ppf(0.5))
    (0.5, 1.0)
    >>> q = distribution_from_value({"quantiles": {"levels": [0.1, 0.9], "values": [0, 8]}})
    >>> float(q.ppf(0.5))
    4.0
    """
    if "quantiles" in value:
        q = value["quantiles"]
        return QuantileDistribution(q["levels"], q["values"])
    if "distribution" not in value:
        raise InvalidForecastError(f"value: {value!r} has neither 'quantiles' nor 'distribution'")
    import numpy as np
    from scipy import stats

    d = value["distribution"]
    name, params = d["name"], d["params"]
    if name == "normal":
        return stats.norm(params["mu"], params["sigma"])
    if name == "lognormal":
        return stats.lognorm(params["sigma"], scale=float(np.exp(params["mu"])))
    if name == "uniform":
        return stats.uniform(params["lower"], params["upper"] - params["lower"])
    if name == "negbinom":
        return stats.nbinom(params["n"], params["p"], loc=params.get("loc", 0))
    if name == "poisson":
        return stats.poisson(params["mu"], loc=params.get("loc", 0))
    if name == "beta":
        return stats.beta(params["a"], params["b"])
    if name == "gamma":
        return stats.gamma(params["shape"], scale=params["scale"])
    if name == "t":
        return stats.t(params["df"], params["loc"], params["scale"])
    raise InvalidForecastError(
        f"distribution: {name!r} is not supported; choose one of {', '.join(NAMED_DISTRIBUTIONS)}"
    )
