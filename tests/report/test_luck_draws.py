"""The random-timing test's draws: the partial sort in chunks picks what sorting every row whole picked."""
from __future__ import annotations

import numpy as np

from runner.report import luck


def whole_sort_means(windows: np.ndarray, k: int, draws: int, seed: int) -> np.ndarray:
    """The draws as first written: one uniform matrix, every row sorted, the first ``k`` taken."""
    rng = np.random.default_rng(seed)
    picks = np.argsort(rng.random((draws, len(windows))), axis=1)[:, :k]
    return windows[picks].mean(axis=1)


def test_same_means_bit_for_bit_over_seeded_cases():
    cases = np.random.default_rng(5)
    for case in range(60):
        n = int(cases.integers(2, 400))
        k = int(cases.integers(1, n + 1))
        draws = int(cases.integers(1, 5_000))
        windows = cases.normal(0.0, 0.02, n)
        seed = int(cases.integers(0, 2**31))
        got = luck.random_pick_means(windows, k, draws, seed)
        assert np.array_equal(got, whole_sort_means(windows, k, draws, seed)), (case, n, k, draws)


def test_chunk_edges_draw_from_one_stream(monkeypatch):
    windows = np.random.default_rng(9).normal(0.0, 0.01, 90)
    monkeypatch.setattr(luck, "DRAWS_PER_CHUNK", 7)   # many chunks, the last one short
    assert np.array_equal(luck.random_pick_means(windows, 30, 200, 3), whole_sort_means(windows, 30, 200, 3))


def test_p_value_as_before_on_a_sampled_case():
    rng = np.random.default_rng(1)
    windows = rng.normal(0.001, 0.02, 1_250)
    trades = rng.normal(0.002, 0.02, 366)
    out = luck.random_timing_test(trades, windows)
    means = whole_sort_means(windows, 366, 20_000, luck.SEED)
    expected = (float(np.sum(means >= trades.mean() - 1e-12)) + 1.0) / 20_001.0
    assert out["p_value"] == round(expected, 4) and out["draws"] == 20_000 and not out["exact"]


def test_same_means_around_the_largest_count_of_windows_sorted_as_integer_keys():
    # Up to 2**11 windows the draws sort integer keys (a uniform number's bits with the window's index);
    # past that the float partial sort. Both must pick what sorting every row whole picked.
    cases = np.random.default_rng(11)
    for n in (1_258, 2**luck.DOUBLE_SPARE_BITS, 2**luck.DOUBLE_SPARE_BITS + 1, 3_000):
        for k in (1, 400, n - 1, n):
            windows = cases.normal(0.0, 0.02, n)
            seed = int(cases.integers(0, 2**31))
            got = luck.random_pick_means(windows, k, 120, seed)
            assert np.array_equal(got, whole_sort_means(windows, k, 120, seed)), (n, k)
