"""How likely a playbook's result is luck: a random-timing permutation test against its own windows.

Null hypothesis: the playbook's filters pick its windows no better than
chance. Under it, its ``k`` trades are like taking its side (the
``unconditional`` return) in ``k`` of its ``N`` windows chosen at random. The
p-value is the share of such random choices whose mean return is at least
the playbook's mean trade return (one-sided). Exact (every combination) when
there are at most ``max_draws`` combinations; otherwise ``max_draws`` seeded
random draws, with the (count + 1) / (draws + 1) estimate. A small p-value
says the selection beat random timing; a large one says the result is what
chance gives. Trade returns are net of costs, window returns are not, so the
test is conservative for the playbook.
"""
from __future__ import annotations

import itertools
import math

import numpy as np

MIN_TRADES = 30
SEED = 20261201


def random_timing_test(trade_returns: np.ndarray, window_returns: np.ndarray, max_draws: int = 20_000,
                       seed: int = SEED) -> dict:
    """p-value and its inputs (see the module docstring); ``p_value`` None when it cannot be computed."""
    trades = np.asarray(trade_returns, dtype="float64")
    windows = np.asarray(window_returns, dtype="float64")
    k, n = len(trades), len(windows)
    out = {"method": "random-timing permutation: mean of k windows' unconditional returns chosen at random "
                     "without replacement, against the mean trade return (one-sided)",
           "trades": k, "windows": n, "p_value": None, "draws": 0, "exact": False,
           "observed_mean_pct": None if k == 0 else round(float(trades.mean()) * 100.0, 4),
           "random_mean_pct": None if n == 0 else round(float(windows.mean()) * 100.0, 4)}
    if k == 0 or n < k:
        return out
    observed = trades.mean()
    combos = math.comb(n, k)
    tolerance = 1e-12
    if combos <= max_draws:
        picks = np.array(list(itertools.combinations(range(n), k)), dtype=np.int64)
        means = windows[picks].mean(axis=1)
        p = float(np.mean(means >= observed - tolerance))
        out.update(p_value=round(p, 4), draws=int(combos), exact=True)
    else:
        means = random_pick_means(windows, k, max_draws, seed)
        p = (float(np.sum(means >= observed - tolerance)) + 1.0) / (max_draws + 1.0)
        out.update(p_value=round(p, 4), draws=max_draws)
    return out


DRAWS_PER_CHUNK = 2_000
#: At most this many uniform numbers per chunk (8 MB): 2,000 draws over 5,000 sessions (20 years of
#: minutes) made 80 MB matrices, several alive at once, on top of the run's bars.
VALUES_PER_CHUNK = 1_000_000
#: A uniform double from Generator.random is the top 53 bits of a 64-bit raw word (numpy's
#: ``next_uint64 >> 11``): 11 bits to spare for a window's index.
DOUBLE_SPARE_BITS = 64 - 53


def random_pick_means(windows: np.ndarray, k: int, draws: int, seed: int = SEED) -> np.ndarray:
    """Mean of ``k`` windows picked at random without replacement, ``draws`` times.

    Draw ``i`` picks the windows with the ``k`` smallest of ``n`` seeded uniform numbers, in the order
    of those numbers (what ``argsort(...)[:, :k]`` gives), so the sums add up in the same order. Found
    with a partial sort of each row (the ``k`` smallest, then only those sorted) and in chunks of rows
    from the same random stream, instead of sorting the whole ``draws`` x ``n`` matrix at once.

    Up to ``2 ** DOUBLE_SPARE_BITS`` windows the rows are sorted as integer keys rather than by index:
    ``Generator.random`` makes each uniform number from one raw 64-bit word, its top 53 bits; a key
    is those 53 bits with the window's index in the 11 bits below them, so ordering the keys orders
    the uniform numbers (ties by index) and carries the index along. Value sorts of keys instead of
    index sorts of floats and two gathers: the same picks in the same order, about a third less time.
    """
    n = len(windows)
    rng = np.random.default_rng(seed)
    means = np.empty(draws)
    chunk = max(1, min(DRAWS_PER_CHUNK, VALUES_PER_CHUNK // max(n, 1)))
    low = np.uint64((1 << DOUBLE_SPARE_BITS) - 1)
    index = np.arange(n, dtype=np.uint64)
    for start in range(0, draws, chunk):
        rows = min(chunk, draws - start)
        if n <= 1 << DOUBLE_SPARE_BITS:
            keys = rng.bit_generator.random_raw((rows, n))   # the words rng.random((rows, n)) would use
            np.bitwise_and(keys, ~low, out=keys)             # the uniform number's 53 bits, shifted up
            np.bitwise_or(keys, index, out=keys)             # the window's index below them
            keys = np.partition(keys, k - 1, axis=1)[:, :k] if k < n else keys
            keys.sort(axis=1)
            picks = (keys & low).astype(np.intp)
        else:
            uniform = rng.random((rows, n))
            smallest = np.argpartition(uniform, k - 1, axis=1)[:, :k] if k < n else np.tile(np.arange(n), (rows, 1))
            order = np.argsort(np.take_along_axis(uniform, smallest, axis=1), axis=1)
            picks = np.take_along_axis(smallest, order, axis=1)
        means[start:start + rows] = windows[picks].mean(axis=1)
    return means


def warnings_for(label: str, trades: int, windows: int, traded_windows: int, p_value: float | None) -> list[str]:
    """Plain-language warnings a reader must see next to the figures."""
    notes = []
    if "SYNTHETIC" in label:
        notes.append("SYNTHETIC data: these figures show the mechanics and say nothing about markets")
    if "PROXY" in label:
        notes.append("PROXY data feeds a filter: the signal depends on a derived series, not a traded one")
    if trades < MIN_TRADES:
        notes.append(f"only {trades} trades in {traded_windows} of {windows} windows: too few to conclude anything "
                     f"(fewer than {MIN_TRADES})")
    if p_value is not None and p_value > 0.05:
        notes.append(f"p = {p_value:.2f}: random timing does as well this often; the result is consistent with luck")
    if windows == 0:
        notes.append("the data covers none of the playbook's windows")
    return notes


EULER_GAMMA = 0.5772156649015329


def deflated_sharpe(best_sharpe: float | None, trial_sharpes: list[float], sessions: int,
                    periods_per_year: float = 252.0) -> dict:
    """The deflated Sharpe ratio of a search's winner (Bailey and López de Prado, 2014).

    ``best_sharpe`` and ``trial_sharpes``: annualized Sharpe ratios of the
    winner and of every trial searched; ``sessions``: the session returns each
    rests on. The winner's Sharpe is compared with the highest Sharpe that
    ``N`` trials of pure noise would be expected to show, given the spread of
    the trials' Sharpe ratios; the session returns are taken as normal (no skew,
    no excess kurtosis), which flatters fat-tailed strategies. Returns
    ``trials``, ``expected_max_sharpe_of_noise`` (annualized), ``haircut_sharpe``
    (the winner's minus that) and ``deflated_sharpe_probability`` (the chance the
    winner's true Sharpe is above zero after the search; below 0.95 it is not
    distinguishable from the best of N lucky draws). None where it cannot be computed.
    """
    from statistics import NormalDist

    finite = [float(s) for s in trial_sharpes if s is not None and math.isfinite(float(s))]
    out = {"method": "deflated Sharpe ratio (Bailey & López de Prado 2014), normal session returns assumed",
           "trials": len(trial_sharpes), "trials_with_a_sharpe": len(finite), "sessions": int(sessions),
           "expected_max_sharpe_of_noise": None, "haircut_sharpe": None, "deflated_sharpe_probability": None}
    n = len(finite)
    if best_sharpe is None or not math.isfinite(float(best_sharpe)) or n < 2 or sessions < 3:
        return out
    scale = math.sqrt(periods_per_year)
    per_session = [s / scale for s in finite]
    spread = float(np.std(per_session, ddof=1))
    normal = NormalDist()
    expected_max = spread * ((1 - EULER_GAMMA) * normal.inv_cdf(1 - 1 / n)
                             + EULER_GAMMA * normal.inv_cdf(1 - 1 / (n * math.e)))
    best = float(best_sharpe) / scale
    z = (best - expected_max) * math.sqrt(sessions - 1) / math.sqrt(1 + 0.5 * best * best)
    out.update(expected_max_sharpe_of_noise=round(expected_max * scale, 4),
               haircut_sharpe=round((best - expected_max) * scale, 4),
               deflated_sharpe_probability=round(normal.cdf(z), 4))
    return out
