"""The per-venue request budget (a token bucket) on a fake clock: hand-worked waits."""

from __future__ import annotations

import asyncio

import pytest

from spreadlab.adapters import RateBudget, VenueError


class FakeClock:
    def __init__(self) -> None:
        self.t = 100.0
        self.sleeps: list[float] = []

    def now(self) -> float:
        return self.t

    async def sleep(self, s: float) -> None:
        self.sleeps.append(s)
        self.t += s


def test_a_burst_goes_at_once_then_requests_are_spaced_at_the_rate():
    clock = FakeClock()
    budget = RateBudget(rate_per_s=10.0, burst=3, now=clock.now, sleep=clock.sleep)

    async def main():
        for _ in range(7):
            await budget.take()

    asyncio.run(main())
    # 3 from the burst, then one every 0.1 s: 4 waits of 0.1 s
    assert clock.sleeps == pytest.approx([0.1] * 4)
    assert budget.waited_s == pytest.approx(0.4)
    assert clock.t == pytest.approx(100.4)


def test_idle_time_refills_the_bucket_up_to_the_burst():
    clock = FakeClock()
    budget = RateBudget(rate_per_s=2.0, burst=2, now=clock.now, sleep=clock.sleep)

    async def main():
        await budget.take()
        await budget.take()
        clock.t += 10.0  # idle: refills to the burst of 2, not 20
        await budget.take()
        await budget.take()
        await budget.take()

    asyncio.run(main())
    assert clock.sleeps == pytest.approx([0.5])


def test_a_budget_without_a_rate_is_refused():
    with pytest.raises(VenueError, match="rate_per_s=0"):
        RateBudget(rate_per_s=0.0, burst=1)
