"""Live trading: the LiveRunner around the engine, and API credentials (:mod:`spreadlab.live.secrets`)."""
