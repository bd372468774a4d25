"""Clock, identifiers, enums and time helpers: the bottom of the stack."""

from spreadlab.core.clock import Clock, SimClock, WallClock
from spreadlab.core.enums import (
    DayCount,
    OptionKind,
    OrderType,
    Settlement,
    Side,
    TimeInForce,
    Venue,
)
from spreadlab.core.ids import InstrumentId
from spreadlab.core.time import (
    NS_PER_DAY,
    NS_PER_HOUR,
    NS_PER_MINUTE,
    NS_PER_SECOND,
    NS_PER_YEAR,
    VENUE_DAY_COUNT,
    datetime_to_ns,
    ns_to_datetime,
    ns_to_iso,
    parse_time,
    venue_day_count,
    year_fraction,
)

__all__ = [
    "NS_PER_DAY",
    "NS_PER_HOUR",
    "NS_PER_MINUTE",
    "NS_PER_SECOND",
    "NS_PER_YEAR",
    "VENUE_DAY_COUNT",
    "Clock",
    "DayCount",
    "InstrumentId",
    "OptionKind",
    "OrderType",
    "Settlement",
    "Side",
    "SimClock",
    "TimeInForce",
    "Venue",
    "WallClock",
    "datetime_to_ns",
    "ns_to_datetime",
    "ns_to_iso",
    "parse_time",
    "venue_day_count",
    "year_fraction",
]
