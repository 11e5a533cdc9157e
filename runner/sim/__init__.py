"""A simulated IB Gateway: the TWS API socket protocol (server version 176) on loopback.

It replays a bar dataset on its own clock, serves contract details, historical
bars and 5-second real-time bars, fills orders by the rules in ``matching``
and ``exchange``, keeps a paper account across client connections, and
injects faults on request. Tests use ``SimulatedGateway`` in-process; users
rehearse with ``flowbot gateway-sim`` (``cli_entry.run_gateway_sim``).
"""
__all__ = ["SimulatedGateway", "OrderView"]


def __getattr__(name):
    # Resolved on first use: ``flowbot --help`` imports ``runner.sim.command``
    # without paying for the gateway (pandas, the protocol, the exchange).
    if name in __all__:
        from runner.sim import gateway
        return getattr(gateway, name)
    raise AttributeError(f"module 'runner.sim' has no attribute {name!r}")
