"""Bars in, one schema out: loaders for the embedded sample, CSV and Parquet."""
