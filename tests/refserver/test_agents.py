"""The reference server's agent registry: one agent per user, reused within the grace period."""

from __future__ import annotations

import asyncio

from wsresilience.refserver.features.agents import AgentRegistry


def test_agent_registry_reuses_then_retires_after_grace() -> None:
    async def scenario() -> None:
        registry = AgentRegistry(grace=0.05)
        first = registry.attach("alice")
        registry.detach(first)
        again = registry.attach("alice")  # within the grace period
        assert again is first and registry.count == 1
        registry.detach(again)
        await asyncio.sleep(0.1)  # past the grace period: nothing to wait on but time itself
        assert registry.count == 0
        assert registry.attach("alice") is not first

    asyncio.run(scenario())


def test_agent_registry_with_duplicates_never_retires_the_old() -> None:
    async def scenario() -> None:
        registry = AgentRegistry(grace=0.01, duplicate=True)
        for _ in range(3):
            registry.detach(registry.attach("bob"))
        await asyncio.sleep(0.05)
        assert registry.count == 2 and registry.most_per_user == 2

    asyncio.run(scenario())
