"""Execution: the order state machine, the ExecutionClient protocol, the simulated venue, legging."""
