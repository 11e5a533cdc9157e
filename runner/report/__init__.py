"""The report wing: what a finished run says about itself.

- ``metrics``: performance, per-year rows and the hold / unconditional baselines.
- ``summary``: the terminal summary table.
- ``html``: ``report.html``, one self-contained page.
- ``run_folder``: creating run folders and writing files atomically.
"""
