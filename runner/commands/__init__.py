"""The everyday verbs beside backtest and paper, one module each (registered in runner/command_registry.py).

- ``list_cmd``: ``flowbot list``, the playbooks and their parameters.
- ``show_cmd``: ``flowbot show RUN``, a past run's summary again.
- ``compare_cmd``: ``flowbot compare RUN RUN...``, figures and parameter differences side by side.
- ``new_cmd``: ``flowbot new playbook NAME``, a commented template with a golden test.
- ``past_runs``: finding and reading run folders (shared by show and compare).
- ``help_text``: descriptions and examples of every subcommand's ``--help``.
- ``output``: ``-q/--quiet`` and ``--json``, the same on every command.

Modules here import pandas, backtrader and friends inside their handlers only,
so building the parser (``flowbot --help``) stays fast.
"""
