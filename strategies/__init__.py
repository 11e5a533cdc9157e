"""The year-end rebalancing playbooks, as pure backtrader strategies."""
