"""Mesa agents for households: residents and administrators (beheerders).

The residents' state lives in arrays (``sim.residents.Residents``) for speed; these agents are
views onto one household's entries, so that Mesa tools and the app can treat households as agents.
The police agents (emergency response, community officer) live in ``sim.police``.
"""

from __future__ import annotations

from mesa.discrete_space import FixedAgent


def _view(state: str, kind: type, doc: str) -> property:
    """A read-only view onto this household's entry in the residents' array ``state``."""
    return property(lambda self: kind(getattr(self.model.residents, state)[self.node]), doc=doc)


class Resident(FixedAgent):
    """A household on the neighbourhood network (one resident stands for the household)."""

    role = "resident"

    def __init__(self, model, cell):
        super().__init__(model)
        self.node = cell.coordinate
        self.cell = cell

    member = _view("member", bool, "in the group")
    alertness = _view("alertness", float, "alertness in [0, 1]")
    fear = _view("fear", float, "fear (perceived risk of crime) in [0, 1]")
    trust = _view("trust", float, "trust in the police in [0, 1]")
    bias = _view("bias", float, "out-group bias in [0, 1]")


class Administrator(Resident):
    """A member who moderates the group and is the line to the officer (rules in ``sim.chat``)."""

    role = "admin"
