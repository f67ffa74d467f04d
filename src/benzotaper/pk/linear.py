"""Exact solution of x' = K·x with doses on a uniform time grid, vectorised with numpy/scipy.

The system is linear and time-invariant, so on a grid of step Δt with doses on grid points the
state obeys exactly x_j = Φ·x_{j−1} + b·u_j with Φ = exp(K·Δt) (one ``scipy.linalg.expm``, which
also covers equal rate constants, where closed forms divide by zero). No integrator, no
discretisation error: only rounding.

``respond`` evaluates that recursion for our rate matrices, which are lower triangular (gut →
parent → metabolites): each compartment is a first-order filter of its own past driven by the
compartments before it, so ``scipy.signal.lfilter`` runs each one in C, a column at a time.
Every term is non-negative, so rounding stays relative to each value, even for the tiny levels
long after the last dose. ``convolve`` (FFT convolution with the impulse response) serves any
other matrix; its rounding is relative to the peak instead. ``propagate`` gives the free decay
of an initial state by doubling: rows [m, 2m) are rows [0, m) times exp(K·m·Δt).
"""

from __future__ import annotations

import numpy as np
from numpy.typing import NDArray

# scipy is imported inside the functions that use it: importing scipy.signal and scipy.linalg
# takes seconds, and every `benzotaper` command (even --help) loads this module.

FloatArray = NDArray[np.float64]


def exp_matrix(a: FloatArray) -> FloatArray:
    """exp(A) for our lower-triangular rate matrices.

    scipy's ``expm`` treats *upper*-triangular input specially (exact diagonal, Al-Mohy & Higham
    fragment 2.1): both more accurate and ~100× faster here, so we work on the transpose.
    """
    from scipy.linalg import expm

    result: FloatArray = expm(np.ascontiguousarray(a.T)).T
    return result


def propagate(rates: FloatArray, dt_h: float, steps: int, x0: FloatArray) -> FloatArray:
    """Rows j = 0..steps−1: exp(K·j·Δt)·x0, shape (steps, n)."""
    n = rates.shape[0]
    out = np.empty((steps, n))
    if steps == 0:
        return out
    out[0] = x0
    jump = exp_matrix(rates * dt_h)  # exp(K·Δt), then exp(K·2^k·Δt) by squaring
    filled = 1
    while filled < steps:
        take = min(filled, steps - filled)
        out[filled : filled + take] = out[:take] @ jump.T
        filled += take
        jump = jump @ jump
    return out


def respond(
    rates: FloatArray,
    dt_h: float,
    doses: FloatArray,
    b: FloatArray,
    x0: FloatArray | None = None,
) -> FloatArray:
    """States right after each grid point's dose: x_j = Φ·x_{j−1} + b·u_j, x_{−1} = x0 at t = 0⁻."""
    steps = len(doses)
    if np.any(np.triu(rates, 1)):  # not a chain: impulse response and FFT
        out = convolve(doses, propagate(rates, dt_h, steps, b))
        return out if x0 is None else out + propagate(rates, dt_h, steps, x0)
    from scipy.signal import lfilter

    phi = exp_matrix(rates * dt_h)
    n = len(b)
    out = np.empty((steps, n))
    for i in range(n):
        drive = b[i] * doses
        if x0 is not None and steps:
            drive[0] += x0[i]
        if i and steps > 1:
            drive[1:] += out[:-1, :i] @ phi[i, :i]
        out[:, i] = lfilter([1.0], [1.0, -phi[i, i]], drive)
    return out


def convolve(doses: FloatArray, response: FloatArray) -> FloatArray:
    """x_j = Σ_i doses_i · response_{j−i} for j < len(doses): the state right after each dose."""
    steps = doses.shape[0]
    if steps == 0 or not np.any(doses):
        return np.zeros((steps, response.shape[1]))
    nonzero = np.flatnonzero(doses)
    if nonzero.size <= 8:  # a handful of doses: direct superposition is cheaper and exact
        out = np.zeros((steps, response.shape[1]))
        for i in nonzero:
            out[i:] += doses[i] * response[: steps - i]
        return out
    from scipy.fft import irfft, next_fast_len, rfft

    size = next_fast_len(2 * steps - 1, real=True)
    spectrum = rfft(doses, size)[:, None] * rfft(response, size, axis=0)
    result: FloatArray = irfft(spectrum, size, axis=0)[:steps]
    if doses.min() >= 0 and response.min() >= 0:
        np.maximum(result, 0.0, out=result)  # FFT rounding leaves -1e-17 where it must be 0
    return result


def periodic_state(
    rates: FloatArray, b: FloatArray, period_h: float, dose_times_h: FloatArray, mg: FloatArray
) -> FloatArray:
    """State at the start of a period when the same doses repeat every period forever.

    x0 = exp(K·T)·x0 + Σ_i exp(K·(T − t_i))·b·mg_i  ⇒  x0 = (I − exp(K·T))⁻¹ · Σ_i (…).
    """
    n = rates.shape[0]
    total = np.zeros(n)
    for t, amount in zip(dose_times_h, mg, strict=True):
        total += exp_matrix(rates * (period_h - float(t))) @ b * float(amount)
    result = np.linalg.solve(np.eye(n) - exp_matrix(rates * period_h), total)
    return np.asarray(result, dtype=np.float64)
