"""Options pricing: Black-76, implied volatility, volatility surfaces and no-arbitrage fair values.

- :mod:`~spreadlab.pricing.black76`: prices and greeks, linear and coin-settled;
- :mod:`~spreadlab.pricing.iv`: vectorised bracketed implied-vol solver with :class:`IVStatus`;
- :mod:`~spreadlab.pricing.svi`: raw-SVI slice fits with a no-butterfly-arbitrage constraint;
- :mod:`~spreadlab.pricing.surface`: calendar-arbitrage check, ATM / 25-delta features, residuals;
- :mod:`~spreadlab.pricing.forwards`: put-call-parity forward bands, conversions/reversals, boxes, fees;
- :mod:`~spreadlab.pricing.carry`: annualised basis, perpetual premium, funding-implied basis, term structure;
- :mod:`~spreadlab.pricing.chain`: the option-chain view of one snapshot.

The package attribute ``spreadlab.pricing.black76`` is the Black-76 *function*
(re-exported for ``spreadlab.black76``); import the module's other names with
``from spreadlab.pricing.black76 import ...``.
"""

from spreadlab.pricing.black76 import Greeks, black76, black76_greeks
from spreadlab.pricing.carry import (
    Compounding,
    annualised_basis,
    basis_term_structure,
    funding_fair_future,
    funding_implied_basis,
    perp_premium,
)
from spreadlab.pricing.chain import OptionChain, chain_parity, option_chain
from spreadlab.pricing.forwards import (
    BoxSpread,
    ForwardBand,
    ParityEdges,
    box_spread,
    parity_edges,
    parity_forward,
    parity_forward_band,
)
from spreadlab.pricing.iv import ImpliedVols, IVStatus, implied_vol
from spreadlab.pricing.surface import (
    CalendarCheck,
    SliceFeatures,
    calendar_arbitrage,
    slice_features,
    surface_features,
    vol_residuals,
)
from spreadlab.pricing.svi import SVI, SVIFit, SVIParams

__all__ = [
    "SVI",
    "BoxSpread",
    "CalendarCheck",
    "Compounding",
    "ForwardBand",
    "Greeks",
    "IVStatus",
    "ImpliedVols",
    "OptionChain",
    "ParityEdges",
    "SVIFit",
    "SVIParams",
    "SliceFeatures",
    "annualised_basis",
    "basis_term_structure",
    "black76",
    "black76_greeks",
    "box_spread",
    "calendar_arbitrage",
    "chain_parity",
    "funding_fair_future",
    "funding_implied_basis",
    "implied_vol",
    "option_chain",
    "parity_edges",
    "parity_forward",
    "parity_forward_band",
    "perp_premium",
    "slice_features",
    "surface_features",
    "vol_residuals",
]
