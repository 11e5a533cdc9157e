"""flowbot runner: everything around the strategies (CLI, config, data, engine, reports, IB)."""
__version__ = "0.1.0"
