"""Input corruptions: Gaussian noise and feature dropout, drawn once per seed.

Each corruption draws its random numbers once (common random numbers) and scales or
thresholds them per severity, so a curve is smooth in the severity: the noise at severity
2s is twice the noise at s, and the features dropped at probability p are also dropped at
every larger p. Immutable features are never corrupted; with input bounds every corrupted
input is clipped to them.
"""

from collections.abc import Iterator, Sequence

import numpy as np
from numpy.typing import NDArray

from evaluations.assessments.robustness.inputs import Data

Corrupted = Iterator[tuple[float, NDArray[np.float32]]]
# Each corruption's stream: numpy.random.default_rng((seed, stream)).
_STREAMS = {"gaussian_noise": 1, "feature_dropout": 2}


def gaussian_noise(data: Data, severities: Sequence[float], *, seed: int) -> Corrupted:
    """x'ᵢⱼ = xᵢⱼ + s·σⱼ·zᵢⱼ with zᵢⱼ ~ N(0, 1) and σⱼ feature j's standard deviation over x.

    The severity s is the noise's standard deviation in units of each feature's own
    (population) standard deviation; a feature constant over x gets no noise.
    """
    flat = data.x.reshape(data.size, -1)
    scale = (flat.std(axis=0, dtype=np.float64) * data.mutable).astype(np.float32)
    rng = np.random.default_rng((seed, _STREAMS["gaussian_noise"]))
    noise = rng.standard_normal(flat.shape, dtype=np.float32)
    noise *= scale
    for severity in severities:
        yield severity, _shaped(flat + np.float32(severity) * noise, data)


def feature_dropout(data: Data, severities: Sequence[float], *, seed: int) -> Corrupted:
    """x'ᵢⱼ = μⱼ where uᵢⱼ < p, else xᵢⱼ; uᵢⱼ ~ U[0, 1) and μⱼ feature j's mean over x.

    The severity p is the probability that each mutable feature of each example is replaced
    by its mean (a neutral value: it keeps the feature's average and lies within the bounds).
    """
    flat = data.x.reshape(data.size, -1)
    fill = flat.mean(axis=0, dtype=np.float64).astype(np.float32)
    rng = np.random.default_rng((seed, _STREAMS["feature_dropout"]))
    draws = rng.random(flat.shape, dtype=np.float32)
    for severity in severities:
        dropped = (draws < severity) & data.mutable
        yield severity, _shaped(np.where(dropped, fill, flat), data)


def _shaped(flat: NDArray[np.float32], data: Data) -> NDArray[np.float32]:
    """Back to x's shape, clipped to the bounds when there are any."""
    if data.bounds is not None:
        np.clip(flat, *data.bounds, out=flat)
    return flat.reshape(data.x.shape)
