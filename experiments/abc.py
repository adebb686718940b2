"""Approximate Bayesian computation by sequential Monte Carlo (ABC-SMC), in numpy.

Population Monte Carlo as in Beaumont, Cornuet, Marin & Robert (2009) and Toni et al. (2009), with
the adaptive tolerance of Del Moral et al. (2012) / Drovandi & Pettitt (2011):

- generation 0 draws ``n0`` parameter sets from the prior and keeps the ``n`` closest to the targets;
- every later generation sets its tolerance to the ``alpha`` quantile of the previous generation's
  distances, proposes by resampling the previous particles by weight and perturbing them with a
  Gaussian kernel of twice their weighted covariance (Beaumont et al. 2009), discards proposals
  outside the prior without simulating them, simulates the rest in batches and accepts those within
  the tolerance, until it holds ``n`` particles;
- importance weights are prior density / kernel mixture density, so the weighted population
  approximates the ABC posterior at that tolerance.

It stops when the simulation budget cannot pay for another generation (estimated from the last
acceptance rate), when acceptance falls below ``min_acceptance`` (the tolerance has reached the
simulation noise), or after ``max_generations``. Priors are uniform on [low, high] or log-uniform; the
sampler works in the transformed space (log for log-uniform), where every prior is uniform.

The model enters only through ``simulate(thetas, seeds) -> (distances, stats)``: a batch of parameter
rows in natural units, one seed per row; the caller decides how to parallelise.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Callable

import numpy as np
from scipy.special import logsumexp

Simulate = Callable[[np.ndarray, np.ndarray], tuple[np.ndarray, np.ndarray]]


@dataclass(frozen=True)
class Prior:
    """Independent uniform or log-uniform priors, one per named parameter."""

    names: tuple[str, ...]
    low: np.ndarray
    high: np.ndarray
    log: np.ndarray          # bool per parameter

    @classmethod
    def from_spec(cls, spec: dict[str, dict]) -> "Prior":
        names = tuple(spec)
        low = np.array([float(spec[n]["low"]) for n in names])
        high = np.array([float(spec[n]["high"]) for n in names])
        log = np.array([bool(spec[n].get("log", False)) for n in names])
        if np.any(low >= high) or np.any(log & (low <= 0)):
            raise ValueError("each prior needs low < high (and low > 0 when log-uniform)")
        return cls(names, low, high, log)

    @property
    def z_low(self) -> np.ndarray:
        return self.to_z(self.low)

    @property
    def z_high(self) -> np.ndarray:
        return self.to_z(self.high)

    def to_z(self, theta: np.ndarray) -> np.ndarray:
        """Natural units to the sampler's space (log for log-uniform priors)."""
        return np.where(self.log, np.log(np.where(self.log, theta, 1.0)), theta)

    def from_z(self, z: np.ndarray) -> np.ndarray:
        return np.where(self.log, np.exp(z), z)

    def sample(self, rng: np.random.Generator, size: int) -> np.ndarray:
        """Draws in natural units, shape (size, d)."""
        return self.from_z(rng.uniform(self.z_low, self.z_high, size=(size, len(self.names))))

    def inside(self, z: np.ndarray) -> np.ndarray:
        return np.all((z >= self.z_low) & (z <= self.z_high), axis=-1)


@dataclass
class Generation:
    """One population: particles (natural units), normalised weights, distances, stats."""

    theta: np.ndarray
    weights: np.ndarray
    distances: np.ndarray
    stats: np.ndarray
    tolerance: float
    simulations: int          # simulations spent on this generation
    acceptance: float

    def ess(self) -> float:
        return float(1 / np.sum(self.weights ** 2))


@dataclass
class Result:
    prior: Prior
    generations: list[Generation] = field(default_factory=list)
    stop_reason: str = ""
    wasted: int = 0           # simulations of a generation abandoned before it was complete
    prior_theta: np.ndarray | None = None   # every generation-0 draw: a prior predictive sample
    prior_stats: np.ndarray | None = None

    @property
    def final(self) -> Generation:
        return self.generations[-1]

    @property
    def simulations(self) -> int:
        return sum(g.simulations for g in self.generations) + self.wasted

    def mean(self) -> np.ndarray:
        return self.final.weights @ self.final.theta

    def quantiles(self, qs) -> np.ndarray:
        """Weighted marginal quantiles, shape (len(qs), d)."""
        g = self.final
        return np.column_stack([weighted_quantile(g.theta[:, j], g.weights, qs)
                                for j in range(g.theta.shape[1])])

    def resample(self, rng: np.random.Generator, size: int) -> np.ndarray:
        idx = rng.choice(len(self.final.weights), size=size, p=self.final.weights)
        return self.final.theta[idx]


def weighted_quantile(x: np.ndarray, w: np.ndarray, qs) -> np.ndarray:
    order = np.argsort(x)
    cw = np.cumsum(w[order])
    cw = (cw - 0.5 * w[order]) / cw[-1]
    return np.interp(qs, cw, x[order])


def abc_smc(simulate: Simulate, prior: Prior, *, n: int, max_simulations: int, rng: np.random.Generator,
            n0: int | None = None, alpha: float = 0.5, min_acceptance: float = 0.03,
            max_generations: int = 20, batch: int | None = None,
            on_generation: Callable[[int, Generation], None] | None = None) -> Result:
    """Run ABC-SMC; see the module docstring. ``batch``: simulations handed to ``simulate`` at once."""
    n0 = n0 or 2 * n
    batch = batch or n
    theta = prior.sample(rng, n0)
    dist, stats = simulate(theta, _seeds(rng, n0))
    result = Result(prior, prior_theta=theta, prior_stats=stats)
    keep = np.argsort(dist, kind="stable")[:n]
    gen = Generation(theta[keep], np.full(n, 1 / n), dist[keep], stats[keep], float(dist[keep].max()),
                     n0, n / n0)
    result.generations.append(gen)
    if on_generation:
        on_generation(0, gen)
    while True:
        if len(result.generations) > max_generations:
            result.stop_reason = f"reached {max_generations} generations"
            break
        expected = n / max(gen.acceptance * 0.6, 1e-9)   # acceptance falls as tolerance tightens
        if result.simulations + expected > max_simulations:
            result.stop_reason = (f"budget: another generation would need about {expected:.0f} more "
                                  f"simulations ({result.simulations} of {max_simulations} used)")
            break
        nxt, spent = _generation(simulate, prior, gen, n, alpha, batch, rng,
                                 budget=max_simulations - result.simulations, min_acceptance=min_acceptance)
        if nxt is None:
            result.wasted += spent
            result.stop_reason = ("acceptance fell below the minimum (tolerance at the simulation "
                                  "noise) or the budget ran out within a generation; kept the last "
                                  "complete generation")
            break
        gen = nxt
        result.generations.append(gen)
        if on_generation:
            on_generation(len(result.generations) - 1, gen)
    return result


def _seeds(rng: np.random.Generator, size: int) -> np.ndarray:
    return rng.integers(0, 2**31 - 1, size=size)


def _generation(simulate: Simulate, prior: Prior, prev: Generation, n: int, alpha: float, batch: int,
                rng: np.random.Generator, budget: int, min_acceptance: float) -> tuple[Generation | None, int]:
    tolerance = float(weighted_quantile(prev.distances, prev.weights, alpha))
    z_prev = prior.to_z(prev.theta)
    cov = 2 * np.atleast_2d(np.cov(z_prev, rowvar=False, aweights=prev.weights))
    cov += np.eye(len(cov)) * 1e-12
    chol = np.linalg.cholesky(cov)
    inv = np.linalg.inv(cov)
    accepted_z, accepted_d, accepted_s = [], [], []
    spent = 0
    while len(accepted_z) < n:
        if spent >= budget or (spent >= 2 * n and len(accepted_z) / spent < min_acceptance):
            return None, spent
        m = min(batch, budget - spent)
        z = _propose(z_prev, prev.weights, chol, prior, rng, m)
        dist, stats = simulate(prior.from_z(z), _seeds(rng, m))
        spent += m
        ok = dist <= tolerance
        accepted_z += list(z[ok])
        accepted_d += list(dist[ok])
        accepted_s += list(stats[ok])
    z = np.array(accepted_z[:n])
    log_kernel = -0.5 * np.einsum("ijk,kl,ijl->ij", z[:, None] - z_prev[None], inv, z[:, None] - z_prev[None])
    log_w = -logsumexp(log_kernel + np.log(prev.weights)[None], axis=1)   # prior is flat in z
    w = np.exp(log_w - log_w.max())
    return Generation(prior.from_z(z), w / w.sum(), np.array(accepted_d[:n]), np.array(accepted_s[:n]),
                      tolerance, spent, len(accepted_z) / spent), spent


def _propose(z_prev, weights, chol, prior: Prior, rng, m: int) -> np.ndarray:
    """``m`` perturbed particles inside the prior (proposals outside are redrawn, not simulated)."""
    out = np.empty((0, z_prev.shape[1]))
    while len(out) < m:
        idx = rng.choice(len(weights), size=2 * m, p=weights)
        z = z_prev[idx] + rng.standard_normal((2 * m, z_prev.shape[1])) @ chol.T
        out = np.vstack([out, z[prior.inside(z)]])
    return out[:m]
