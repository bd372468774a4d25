"""Options pricing: Black-76, implied volatility, volatility surfaces and no-arbitrage fair values."""
