"""Peer: pykalman filter + log-likelihood of the random-walk (alpha, beta) hedge model.

Usage: python kalman_pykalman.py DATA.npz N_SUBSET
Reads y, x, r, q_alpha, q_beta, a0, b0, p0 (2x2) from DATA.npz, runs the first
N_SUBSET observations, prints one JSON line: seconds, loglik, last beta.
"""

from __future__ import annotations

import json
import sys
import time
from importlib.metadata import version

import numpy as np
from pykalman import KalmanFilter


def main() -> None:
    data = np.load(sys.argv[1])
    n = int(sys.argv[2])
    y, x = data["y"][:n], data["x"][:n]
    kf = KalmanFilter(
        transition_matrices=np.eye(2),
        observation_matrices=np.stack([np.ones_like(x), x], axis=1)[:, None, :],
        transition_covariance=np.diag([float(data["q_alpha"]), float(data["q_beta"])]),
        observation_covariance=np.array([[float(data["r"])]]),
        initial_state_mean=np.array([float(data["a0"]), float(data["b0"])]),
        initial_state_covariance=data["p0"],
    )
    t0 = time.perf_counter()
    means, _ = kf.filter(y[:, None])
    t_filter = time.perf_counter() - t0
    loglik = kf.loglikelihood(y[:, None])
    print(
        json.dumps(
            {
                "seconds": t_filter,
                "n": n,
                "loglik": float(loglik),
                "beta_last": float(means[-1, 1]),
                "version": version("pykalman"),
            }
        )
    )


if __name__ == "__main__":
    main()
