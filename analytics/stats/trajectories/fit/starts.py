"""Starting values: partitions of the patients by level and slope, and the parameters they give."""

from __future__ import annotations

import math

import numpy as np
from numpy.typing import NDArray

from ..model import CensoredMixtureLikelihood, FloatArray, PreparedData


def _patient_level_and_slope(data: PreparedData) -> tuple[FloatArray, FloatArray]:
    observed = ~np.isnan(data.y)
    filled = np.where(observed, data.y, 0.0)
    t = data.scaled_times
    n = observed.sum(axis=1)
    level = filled.sum(axis=1) / n
    t_bar = (observed * t).sum(axis=1) / n
    dt = np.where(observed, t - t_bar[:, None], 0.0)
    sxx = (dt**2).sum(axis=1)
    sxy = (dt * (filled - level[:, None])).sum(axis=1)
    slope = np.divide(sxy, sxx, out=np.zeros_like(sxy), where=sxx > 1e-12)
    return level, slope


def kmeans(
    points: FloatArray, k: int, rng: np.random.Generator, iterations: int = 25
) -> NDArray[np.int64]:
    """Lloyd's k-means with k-means++ seeding; returns labels."""
    n = points.shape[0]
    centres = np.empty((k, points.shape[1]))
    centres[0] = points[rng.integers(n)]
    dist = ((points - centres[0]) ** 2).sum(axis=1)
    for c in range(1, k):
        total = dist.sum()
        idx = rng.choice(n, p=dist / total) if total > 0 else rng.integers(n)
        centres[c] = points[idx]
        dist = np.minimum(dist, ((points - centres[c]) ** 2).sum(axis=1))
    labels = np.zeros(n, dtype=np.int64)
    for _ in range(iterations):
        d2 = ((points[:, None, :] - centres[None, :, :]) ** 2).sum(axis=2)
        new = d2.argmin(axis=1)
        if np.array_equal(new, labels) and _ > 0:
            break
        labels = new
        counts = np.bincount(labels, minlength=k)
        for c in range(k):
            if counts[c]:
                centres[c] = points[labels == c].mean(axis=0)
    return labels


def start_partitions(
    data: PreparedData, k: int, n_starts: int, rng: np.random.Generator
) -> list[NDArray[np.int64]]:
    """Return the starting partitions: by level quantiles, then k-means on level and slope."""
    level, slope = _patient_level_and_slope(data)
    ranks = np.argsort(np.argsort(level, kind="stable"), kind="stable")
    partitions = [(ranks * k // level.size).astype(np.int64)]
    if k == 1:
        return partitions
    points = np.column_stack(
        [
            (level - level.mean()) / (level.std() or 1.0),
            0.5 * (slope - slope.mean()) / (slope.std() or 1.0),
        ]
    )
    for _ in range(n_starts - 1):
        labels = kmeans(points, k, rng)
        # Number clusters by mean level so per-group orders map to low-to-high starting groups.
        sums = np.bincount(labels, weights=level, minlength=k)
        counts = np.maximum(np.bincount(labels, minlength=k), 1)
        rank = np.empty(k, dtype=np.int64)
        rank[np.argsort(sums / counts, kind="stable")] = np.arange(k)
        partitions.append(rank[labels])
    return partitions


def vector_from_partition(
    model: CensoredMixtureLikelihood, labels: NDArray[np.int64]
) -> FloatArray:
    """Return the parameters of least-squares curves fitted to each group of a partition."""
    data = model.data
    k = model.n_groups
    observed = ~np.isnan(data.y)
    filled = np.where(observed, data.y, 0.0)
    one_hot = np.zeros((labels.size, k))
    one_hot[np.arange(labels.size), labels] = 1.0
    n_t = observed.T.astype(np.float64) @ one_hot
    s_t = filled.T @ one_hot
    ss_t = (filled**2).T @ one_hot
    betas = []
    rss = 0.0
    for j, z in enumerate(model.designs):
        weights = n_t[:, j]
        lhs = z.T @ (weights[:, None] * z)
        rhs = z.T @ s_t[:, j]
        beta: FloatArray = np.zeros(z.shape[1])
        if weights.sum() == 0:
            beta[0] = 0.5 * (data.lower + data.upper)
        else:
            beta = np.asarray(np.linalg.lstsq(lhs, rhs, rcond=None)[0], dtype=np.float64)
        mu = z @ beta
        rss += float(np.sum(ss_t[:, j] - 2 * mu * s_t[:, j] + mu**2 * weights))
        betas.append(beta)
    sigma = max(math.sqrt(max(rss, 0.0) / max(data.n_observations, 1)), 0.3)
    share = np.maximum(one_hot.mean(axis=0), 1e-3)
    return model.pack(betas, sigma, np.log(share))
