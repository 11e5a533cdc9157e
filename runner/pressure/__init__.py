"""``flowbot pressure``: today's rebalancing pressure, from the configured feeds.

* ``pressure_config``: the pressure file (instruments, legs, mixes, signals, playbooks) and its loader;
* ``compute``: returns, drift, implied flow, the drift's history and the calendar for a date;
* ``triggers``: which configured playbook would trigger, and what each still waits for;
* ``render``: the terminal tables and the JSON document; ``html_page``: the page with its chart;
* ``command``: the subcommand.
"""
