"""Mesa agents: one per household, plus the community officer.

The residents' state lives in arrays (``sim.residents.Residents``) for speed; these agents are
views onto one household's entries, so that Mesa tools and the app can treat households as agents.
"""

from __future__ import annotations

from mesa import Agent
from mesa.discrete_space import FixedAgent


class Resident(FixedAgent):
    """A household on the neighbourhood network (one resident stands for the household)."""

    def __init__(self, model, node: int, cell):
        super().__init__(model)
        self.node = node
        self.cell = cell

    @property
    def member(self) -> bool:
        return bool(self.model.residents.member[self.node])

    @property
    def alertness(self) -> float:
        return float(self.model.residents.alertness[self.node])

    @property
    def fear(self) -> float:
        return float(self.model.residents.fear[self.node])

    @property
    def trust(self) -> float:
        return float(self.model.residents.trust[self.node])

    @property
    def bias(self) -> float:
        return float(self.model.residents.bias[self.node])

    @property
    def role(self) -> str:
        return "admin" if self.node in self.model.admin_nodes else ("member" if self.member else "resident")


class CommunityOfficer(Agent):
    """The wijkagent: in the group or not (scenario); acts through ``sim.police.Police``."""

    def __init__(self, model, in_group: bool):
        super().__init__(model)
        self.in_group = in_group
