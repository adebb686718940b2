"""Mesa agents for households: residents and administrators (beheerders).

The residents' state lives in arrays (``sim.residents.Residents``) for speed; these agents are
views onto one household's entries, so that Mesa tools and the app can treat households as agents.
The police agents (emergency response, community officer) live in ``sim.police``.
"""

from __future__ import annotations

from mesa.discrete_space import FixedAgent


class Resident(FixedAgent):
    """A household on the neighbourhood network (one resident stands for the household)."""

    role = "resident"

    def __init__(self, model, cell):
        super().__init__(model)
        self.node = cell.coordinate
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


class Administrator(Resident):
    """A member who moderates the group and is the line to the officer (rules in ``sim.chat``)."""

    role = "admin"
