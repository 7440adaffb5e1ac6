"""Base class of the models fitted by MCMC (PyMC imported lazily, inside methods)."""

from __future__ import annotations

import os
from collections.abc import Hashable
from dataclasses import dataclass
from datetime import datetime
from typing import Any, ClassVar

import numpy as np

from forecasting.errors import ModelError
from forecasting.models._base import Diagnostics, QuestionModel, canonical_hash, warn_if_bad

__all__ = ["FitResult", "PyMCQuestionModel"]


@dataclass(frozen=True)
class FitResult:
    idata: Any  # xarray.DataTree
    diagnostics: Diagnostics
    as_of: datetime
    evidence_hash: str


class PyMCQuestionModel(QuestionModel):
    """A question model whose posterior is sampled with nutpie (or PyMC's NUTS).

    Subclasses give the model structure (:meth:`_structure_key`, :meth:`_build_pymc`) and the
    data for a time ``t`` (:meth:`_fit_data`).  One PyMC model is built and compiled per
    structure and kept in an in-process cache; a refit only swaps the ``pm.Data`` values.
    Fits are cached per evidence hash, so ``forecast_at`` refits only when the evidence
    known at ``t`` changed.
    """

    sample_defaults: ClassVar[dict[str, Any]] = {
        "draws": 2000,
        "tune": 1000,
        "chains": 2,
        "sampler": "auto",
        "target_accept": 0.9,
    }
    diagnostic_vars: ClassVar[tuple[str, ...] | None] = None

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        self._fits: dict[str, FitResult] = {}
        self._last_fit: FitResult | None = None
        self.sample_settings: dict[str, Any] = dict(self.sample_defaults)
        super().__init__(*args, **kwargs)

    # -- to override ----------------------------------------------------------------
    def _structure_key(self, t: datetime) -> Hashable:
        raise NotImplementedError

    def _build_pymc(self, key: Hashable) -> Any:
        raise NotImplementedError

    def _fit_data(self, t: datetime) -> dict[str, Any]:
        raise NotImplementedError

    def _needs_sampling(self, t: datetime) -> bool:
        return True

    # -- fitting ------------------------------------------------------------------------
    def _as_of(self, t: datetime | None) -> datetime:
        if t is not None:
            return self._time(t)
        return max([self.open_at, *(e.observed_at for e in self._evidence)])

    def fit_hash(self, t: datetime | None = None) -> str:
        """Hash of the evidence (and derived data) that a fit at ``t`` conditions on."""
        as_of = self._as_of(t)
        data = {k: np.asarray(v).tolist() for k, v in self._fit_data(as_of).items()}
        return canonical_hash(
            {"evidence": [e.as_dict() for e in self.evidence_until(as_of)], "data": data}
        )

    def fit(
        self,
        t: datetime | None = None,
        *,
        draws: int | None = None,
        tune: int | None = None,
        chains: int | None = None,
        random_seed: int | None = None,
        sampler: str | None = None,
    ) -> Any:
        """Sample the posterior given the evidence known at ``t`` (default: all of it).

        Returns the ArviZ ``DataTree`` with provenance attrs (model name and version, config
        hash, evidence hash).  Warns with :class:`ModelWarning` when diagnostics fail.
        """
        from forecasting.models import _sampling

        as_of = self._as_of(t)
        ehash = self.fit_hash(as_of)
        settings = dict(self.sample_settings)
        for k, v in (("draws", draws), ("tune", tune), ("chains", chains), ("sampler", sampler)):
            if v is not None:
                settings[k] = v
        seed = random_seed if random_seed is not None else int(ehash[:8], 16) % 2**31
        key = (self.name, self._structure_key(as_of))
        entry = _sampling.get_cached_model(key, lambda: self._build_pymc(key[1]))
        try:
            idata, used = _sampling.sample(
                entry,
                self._fit_data(as_of),
                draws=int(settings["draws"]),
                tune=int(settings["tune"]),
                chains=int(settings["chains"]),
                random_seed=seed,
                sampler=str(settings["sampler"]),
                target_accept=float(settings["target_accept"]),
            )
        except ModelError:
            raise
        except Exception as exc:  # sampler failures become ModelError with context
            raise ModelError(f"model {self.name!r}: sampling failed: {exc}") from exc
        _sampling.attach_provenance(
            idata,
            model_name=self.name,
            model_version=self.version,
            config_hash=self.config_hash,
            evidence_hash=ehash,
            extra={"question_id": self.question["id"], "as_of": as_of.isoformat(), "sampler": used},
        )
        diag = _sampling.compute_diagnostics(idata, var_names=self.diagnostic_vars, sampler=used)
        warn_if_bad(diag, f"model {self.name!r} for question {self.question['id']!r}")
        result = FitResult(idata=idata, diagnostics=diag, as_of=as_of, evidence_hash=ehash)
        self._fits[ehash] = result
        self._last_fit = result
        return idata

    def _fit_for(self, t: datetime) -> FitResult:
        ehash = self.fit_hash(t)
        result = self._fits.get(ehash)
        if result is None:
            self.fit(t)
            result = self._fits[ehash]
        return result

    def diagnostics(self) -> Diagnostics:
        if self._last_fit is None:
            return Diagnostics(
                ok=False, messages=("the model has not been fitted yet; call fit()",)
            )
        return self._last_fit.diagnostics

    @property
    def inference_data(self) -> Any:
        """The DataTree of the latest fit (``None`` before the first fit)."""
        return None if self._last_fit is None else self._last_fit.idata

    # -- saving and loading ---------------------------------------------------------------
    def save(self, path: str | os.PathLike[str]) -> Any:
        """Save the latest fit as NetCDF (``.nc``) or Zarr (``.zarr``) with provenance."""
        from forecasting.models import _sampling

        if self._last_fit is None:
            raise ModelError(f"model {self.name!r}: nothing to save; call fit() first")
        return _sampling.save_inference_data(self._last_fit.idata, path)

    def load_fit(self, path: str | os.PathLike[str]) -> Any:
        """Load a saved fit; refuse it unless model, config hash and evidence hash match."""
        from forecasting.models import _sampling

        tree = _sampling.load_inference_data(
            path, model_name=self.name, config_hash=self.config_hash
        )
        as_of = self._time(tree.attrs.get("forecasting_as_of", self._as_of(None)))
        ehash = self.fit_hash(as_of)
        if tree.attrs["forecasting_evidence_hash"] != ehash:
            raise ModelError(
                f"{str(path)!r}: forecasting_evidence_hash="
                f"{tree.attrs['forecasting_evidence_hash']!r} does not match this model's "
                f"evidence as of {as_of.isoformat()} ({ehash!r}); refusing to load"
            )
        diag = _sampling.compute_diagnostics(
            tree, var_names=self.diagnostic_vars, sampler=tree.attrs.get("forecasting_sampler")
        )
        result = FitResult(idata=tree, diagnostics=diag, as_of=as_of, evidence_hash=ehash)
        self._fits[ehash] = result
        self._last_fit = result
        return tree

    def _posterior_draws(self, result: FitResult, var: str) -> np.ndarray:
        post = result.idata["posterior"]
        return np.asarray(post[var].values).reshape(-1, *post[var].shape[2:])
