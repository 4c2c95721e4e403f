"""The trajectory likelihood's pass over patients, with the patients grouped by observed-time mask.

``PreparedData.features`` holds, per patient, indicator rows (at the lower bound, at the upper
bound, interior: three per timepoint) beside the interior values, their squares' sum. The
indicators are three quarters of that matrix, and an evaluation reads the whole matrix twice:
on many patients it is bound by memory, not arithmetic. Here the indicators are rewritten as

    interior = observed - at lower - at upper

so a patient's indicator terms are the terms of its observed-time mask (few distinct masks:
3,801 among 84,791 demo patients) and of its censored calls (4% of calls, a sparse matrix).
Only the interior values and squares (one row per timepoint, and one) are read per patient.
The sums are the same as the dense pass's up to rounding (tests/analytics/test_trajectory_masks).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from numpy.typing import NDArray
from scipy import sparse

FloatArray = NDArray[np.float64]


@dataclass(frozen=True, eq=False)
class MaskedFeatures:
    """The feature matrix split into per-patient values, observed masks and censored calls."""

    n_times: int
    values: FloatArray  # (T + 1) x patients: interior y per timepoint, then sum of interior y^2
    mask_of: NDArray[np.intp]  # each patient's observed-time mask
    masks: FloatArray  # timepoints x masks, 1 where observed
    members: sparse.csr_matrix  # masks x patients, 1 where the patient has the mask
    censored: sparse.csr_matrix  # patients x 2T: at lower (first T), at upper (next T)
    censored_t: sparse.csr_matrix  # its transpose


def masked_features(features: FloatArray, n_times: int) -> MaskedFeatures:
    """Split a ``PreparedData.features`` matrix (see module docstring)."""
    t = n_times
    indicators = features[: 3 * t]
    observed = (indicators[:t] + indicators[t : 2 * t] + indicators[2 * t :]).T > 0
    masks, mask_of = np.unique(observed, axis=0, return_inverse=True)
    mask_of = np.asarray(mask_of, dtype=np.intp).ravel()
    n = features.shape[1]
    members = sparse.csr_matrix(
        (np.ones(n), (mask_of, np.arange(n))), shape=(masks.shape[0], n), dtype=np.float64
    )
    censored = sparse.csr_matrix(indicators[: 2 * t].T, dtype=np.float64)
    return MaskedFeatures(
        n_times=t,
        values=np.ascontiguousarray(features[3 * t :]),
        mask_of=mask_of,
        masks=np.ascontiguousarray(masks.T, dtype=np.float64),
        members=members,
        censored=censored,
        censored_t=sparse.csr_matrix(censored.T),
    )


def normalise_block(log_joint: FloatArray, patient_ll: FloatArray) -> FloatArray:
    """Turn a block of log-joints (groups x patients) into posteriors, in place.

    Each patient's log-likelihood (log of the sum over groups) is written into ``patient_ll``;
    the block itself becomes the posteriors and is returned.
    """
    peak = log_joint.max(axis=0)
    log_joint -= peak
    scaled = np.exp(log_joint, out=log_joint)
    total = scaled.sum(axis=0)
    patient_ll[:] = peak + np.log(total)
    scaled /= total
    return scaled


def masked_pass(
    split: MaskedFeatures, weights_t: FloatArray, log_pi: FloatArray, chunk_elements: int
) -> tuple[FloatArray, FloatArray, FloatArray]:
    """Return posterior (groups x patients), patient log-likelihoods and ``features @ post.T``.

    ``weights_t`` is groups x features rows, as in ``CensoredMixtureLikelihood.evaluate``;
    patients are taken in blocks of about ``chunk_elements`` values (cache, single-threaded BLAS).
    """
    t = split.n_times
    w_lo, w_up, w_in = weights_t[:, :t], weights_t[:, t : 2 * t], weights_t[:, 2 * t : 3 * t]
    w_values = np.ascontiguousarray(weights_t[:, 3 * t :])
    by_mask = w_in @ split.masks + log_pi[:, None]  # groups x masks
    shifts = np.hstack([w_lo - w_in, w_up - w_in])  # groups x 2T: a censored call's change
    fixed = np.take(by_mask, split.mask_of, axis=1)
    fixed += np.asarray(split.censored @ shifts.T).T
    values = split.values
    n, k = values.shape[1], weights_t.shape[0]
    posterior = np.empty((k, n))
    patient_ll = np.empty(n)
    on_values = np.zeros((values.shape[0], k))
    chunk = max(64, chunk_elements // (k * values.shape[0]))
    for start in range(0, n, chunk):
        block = values[:, start : start + chunk]
        log_joint = w_values @ block
        log_joint += fixed[:, start : start + chunk]
        scaled = normalise_block(log_joint, patient_ll[start : start + chunk])
        posterior[:, start : start + chunk] = scaled
        on_values += block @ scaled.T
    # The sparse products read the posteriors patient by patient: one contiguous copy serves both
    # (each would otherwise make its own).
    by_patient = np.ascontiguousarray(posterior.T)
    on_censored = np.asarray(split.censored_t @ by_patient)  # 2T x groups
    on_observed = split.masks @ np.asarray(split.members @ by_patient)  # T x groups
    on_lo, on_up = on_censored[:t], on_censored[t:]
    aggregated = np.vstack([on_lo, on_up, on_observed - on_lo - on_up, on_values])
    return posterior, patient_ll, aggregated
