"""PyMC/nutpie sampling, compiled-model cache, diagnostics and NetCDF provenance.

Imported only when a PyMC model is built or fitted: importing this module imports PyMC,
PyTensor and ArviZ.
"""

from __future__ import annotations

import importlib.util
import math
import os
from collections.abc import Callable, Hashable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import arviz as az
import numpy as np
import pymc as pm
import xarray as xr

from forecasting.errors import ModelError
from forecasting.models._base import Diagnostics

__all__ = [
    "PROVENANCE_KEYS",
    "CachedModel",
    "clear_cache",
    "compute_diagnostics",
    "get_cached_model",
    "load_inference_data",
    "sample",
    "save_inference_data",
]

RHAT_MAX = 1.01
ESS_BULK_MIN = 400
PROVENANCE_KEYS = (
    "forecasting_model",
    "forecasting_model_version",
    "forecasting_config_hash",
    "forecasting_evidence_hash",
)


def nutpie_available() -> bool:
    return importlib.util.find_spec("nutpie") is not None


@dataclass
class CachedModel:
    """A PyMC model built once per structure, with its compiled nutpie model."""

    key: Hashable
    model: pm.Model
    compiled: Any = None  # nutpie CompiledPyMCModel, compiled lazily
    compile_count: int = 0
    fits: int = 0
    extra: dict[str, Any] = field(default_factory=dict)


_CACHE: dict[Hashable, CachedModel] = {}


def get_cached_model(key: Hashable, build: Callable[[], pm.Model]) -> CachedModel:
    """The cached model for ``key`` (built with ``build()`` on first use)."""
    entry = _CACHE.get(key)
    if entry is None:
        entry = CachedModel(key=key, model=build())
        _CACHE[key] = entry
    return entry


def clear_cache() -> None:
    """Forget every cached model (the next fit recompiles)."""
    _CACHE.clear()


def cache_info() -> dict[Hashable, dict[str, int]]:
    return {k: {"compiles": v.compile_count, "fits": v.fits} for k, v in _CACHE.items()}


def _resolve_sampler(sampler: str) -> str:
    if sampler == "auto":
        return "nutpie" if nutpie_available() else "pymc"
    if sampler not in ("nutpie", "pymc"):
        raise ModelError(f"sampler={sampler!r} is not allowed; allowed: 'auto', 'nutpie', 'pymc'")
    if sampler == "nutpie" and not nutpie_available():
        raise ModelError("sampler='nutpie' was asked for but nutpie is not installed")
    return sampler


def sample(
    entry: CachedModel,
    data: Mapping[str, Any],
    *,
    draws: int = 1000,
    tune: int = 1000,
    chains: int = 2,
    random_seed: int | None = None,
    sampler: str = "auto",
    target_accept: float = 0.9,
) -> tuple[xr.DataTree, str]:
    """Set ``data`` on the cached model and sample it; return (DataTree, sampler used).

    With nutpie the model is compiled once per cache entry and later fits only swap the data
    (``CompiledPyMCModel.with_data``); PyMC's NUTS is the fallback (its C code is cached on
    disk by PyTensor across processes).
    """
    which = _resolve_sampler(sampler)
    seed = (
        int(random_seed)
        if random_seed is not None
        else int(np.random.SeedSequence().generate_state(1)[0] % 2**31)
    )
    cores = max(1, min(chains, os.cpu_count() or 1))
    arrays = {k: np.asarray(v) for k, v in data.items()}
    if which == "nutpie":
        import nutpie

        if entry.compiled is None:
            entry.compiled = nutpie.compile_pymc_model(entry.model)
            entry.compile_count += 1
        used = {getattr(v, "name", None) for v in getattr(entry.compiled, "shared_var_keys", {})}
        compiled = entry.compiled.with_data(**{k: v for k, v in arrays.items() if k in used})
        idata = nutpie.sample(
            compiled,
            draws=draws,
            tune=tune,
            chains=chains,
            cores=cores,
            seed=seed,
            progress_bar=False,
            save_warmup=False,
            target_accept=target_accept,
        )
    else:
        with entry.model:
            pm.set_data(arrays)
            idata = pm.sample(
                draws=draws,
                tune=tune,
                chains=chains,
                cores=cores,
                random_seed=seed,
                progressbar=False,
                nuts_sampler="pymc",
                compute_convergence_checks=False,
                target_accept=target_accept,
            )
    entry.fits += 1
    return idata, which


def _max_over(ds: Any, fn: Callable[[Any], float]) -> float:
    ds = getattr(ds, "ds", ds)
    if isinstance(ds, xr.DataTree):
        ds = ds.to_dataset()
    vals = [fn(ds[v].values) for v in ds.data_vars]
    vals = [v for v in vals if not math.isnan(v)]
    return fn(np.array(vals)) if vals else math.nan


def compute_diagnostics(
    idata: xr.DataTree, *, var_names: Sequence[str] | None = None, sampler: str | None = None
) -> Diagnostics:
    """R-hat ≤ 1.01, bulk ESS ≥ 400 and no divergences, explained in plain words."""
    post = idata["posterior"].to_dataset()
    names = list(var_names) if var_names is not None else list(post.data_vars)
    sub = post[names]
    rhat = _max_over(az.rhat(sub), lambda a: float(np.nanmax(a)) if np.size(a) else math.nan)
    ess = _max_over(
        az.ess(sub, method="bulk"), lambda a: float(np.nanmin(a)) if np.size(a) else math.nan
    )
    stats = idata["sample_stats"].to_dataset() if "sample_stats" in idata.children else None
    div = 0
    if stats is not None:
        for key in ("diverging", "divergences"):
            if key in stats:
                div = int(np.asarray(stats[key].values).astype(bool).sum())
                break
    chains = int(post.sizes.get("chain", 0))
    draws = int(post.sizes.get("draw", 0))
    msgs: list[str] = []
    if not (rhat <= RHAT_MAX):
        msgs.append(
            f"The chains disagree (largest R-hat {rhat:.3f} > {RHAT_MAX}); run more draws or "
            "check the model."
        )
    if not (ess >= ESS_BULK_MIN):
        msgs.append(
            f"Too few effectively independent draws (smallest bulk ESS {ess:.0f} < "
            f"{ESS_BULK_MIN}); the forecast's Monte Carlo error may be large, run more draws."
        )
    if div > 0:
        msgs.append(
            f"The sampler hit {div} divergent transition(s); the posterior may be biased. "
            "Reports that contradict each other strongly or very tight priors can cause this."
        )
    return Diagnostics(
        ok=not msgs,
        messages=tuple(msgs) if msgs else ("all sampling diagnostics passed",),
        sampler=sampler,
        rhat_max=rhat,
        ess_bulk_min=ess,
        divergences=div,
        draws=draws,
        chains=chains,
    )


# --------------------------------------------------------------------------- provenance


def attach_provenance(
    idata: xr.DataTree,
    *,
    model_name: str,
    model_version: str,
    config_hash: str,
    evidence_hash: str,
    extra: Mapping[str, Any] | None = None,
) -> xr.DataTree:
    idata.attrs.update(
        {
            "forecasting_model": model_name,
            "forecasting_model_version": model_version,
            "forecasting_config_hash": config_hash,
            "forecasting_evidence_hash": evidence_hash,
        }
    )
    for k, v in (extra or {}).items():
        idata.attrs[f"forecasting_{k}"] = v if isinstance(v, (str, int, float)) else str(v)
    return idata


def _for_disk(idata: xr.DataTree) -> xr.DataTree:
    """Drop object-dtype variables (e.g. nutpie's divergence messages) NetCDF cannot store."""
    tree = idata.copy()
    for node in tree.subtree:
        ds = node.to_dataset()
        drop = [v for v in ds.data_vars if ds[v].dtype == object]
        if drop:
            node.dataset = ds.drop_vars(drop)
        for attrs in [node.attrs]:
            for k, v in list(attrs.items()):
                if not isinstance(v, (str, int, float, np.number, np.ndarray)):
                    attrs[k] = str(v)
    return tree


def save_inference_data(idata: xr.DataTree, path: str | os.PathLike[str]) -> Path:
    """Save as NetCDF (``.nc``; needs h5netcdf or netCDF4) or Zarr (a ``.zarr`` path)."""
    for key in PROVENANCE_KEYS:
        if key not in idata.attrs:
            raise ModelError(
                f"inference data has no provenance attribute {key!r}; fit a model first"
            )
    path = Path(path)
    tree = _for_disk(idata)
    if path.suffix == ".zarr":
        tree.to_zarr(path, mode="w", consolidated=False)
        return path
    try:
        tree.to_netcdf(path)
    except ValueError as exc:
        if "backend" in str(exc) or "engine" in str(exc):
            raise ModelError(
                f"cannot write NetCDF file {str(path)!r}: {exc}. Install h5netcdf "
                "(pip install h5netcdf) or save to a '.zarr' path"
            ) from exc
        raise
    return path


def load_inference_data(
    path: str | os.PathLike[str],
    *,
    model_name: str | None = None,
    config_hash: str | None = None,
    evidence_hash: str | None = None,
) -> xr.DataTree:
    """Load saved inference data, refusing it when its provenance does not match."""
    path = Path(path)
    if not path.exists():
        raise ModelError(f"no saved inference data at {str(path)!r}")
    kwargs: dict[str, Any] = (
        {"engine": "zarr", "consolidated": False} if path.suffix == ".zarr" else {}
    )
    try:
        tree = xr.open_datatree(path, **kwargs).load()
    except ValueError as exc:
        raise ModelError(f"cannot read inference data {str(path)!r}: {exc}") from exc
    attrs = tree.attrs
    missing = [k for k in PROVENANCE_KEYS if k not in attrs]
    if missing:
        raise ModelError(f"{str(path)!r} has no provenance attributes {missing}; refusing to load")
    for key, want in (
        ("forecasting_model", model_name),
        ("forecasting_config_hash", config_hash),
        ("forecasting_evidence_hash", evidence_hash),
    ):
        if want is not None and attrs[key] != want:
            raise ModelError(
                f"{str(path)!r}: {key}={attrs[key]!r} does not match the model's {want!r}; the "
                "saved fit belongs to another configuration or evidence set, refusing to load"
            )
    return tree
