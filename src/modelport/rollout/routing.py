"""The serving router that follows deployment policies stored in the registry.

The watcher asks it, every poll and in a thread, which traffic each served name should have; a
bare name follows its deployment's policy, while `name@alias` and `name:3` refs keep their pin.
"""

from __future__ import annotations

from modelport.foundation.names import Ref
from modelport.registry.records import ModelRecord
from modelport.rollout.store import DeploymentStore
from modelport.serving.router import Router, Traffic


class DeploymentRouter(Router):
    """A `Router` whose desired traffic comes from the `deployments` table."""

    def __init__(self, store: DeploymentStore, *, seed: int | None = None) -> None:
        super().__init__(seed=seed)
        self.store = store

    def desired_traffic(self, model: ModelRecord, ref: Ref) -> Traffic | None:
        """The deployment's traffic for a bare name; the pinned version or alias otherwise."""
        if ref.alias is not None or ref.version is not None:
            return super().desired_traffic(model, ref)
        deployment = self.store.get(model.name)
        fallback = self.desired(model, ref)
        if deployment is None:
            return None if fallback is None else Traffic.single(fallback)
        return deployment.policy.traffic(fallback)
