"""The names of the embedded samples, without importing pandas (a config is checked without it).

``runner.data.sample.sample_names()`` is the source; tests/hardening/test_unknown_sample.py keeps the two equal.
"""
SAMPLE_NAMES = ("aaa_bond_proxy", "nasdaq", "sp500", "spy_1min_synthetic")
