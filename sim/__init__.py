"""buurtsim: an agent-based model of Dutch WhatsApp neighbourhood-watch groups.

Typical use::

    import sim
    result = sim.run(sim.Params.preset("officer_in_group"), seed=3, days=365)
    result.summary["follow_up_share"], result.days.head()
"""

from sim.model import NeighbourhoodWatch
from sim.outcomes import COUNTS, HEADLINE, OUTCOME_NAMES, OUTCOMES, STATE, summarise
from sim.params import SCENARIOS, Params, provenance_table
from sim.run import RunResult, run

__all__ = ["COUNTS", "HEADLINE", "OUTCOME_NAMES", "OUTCOMES", "STATE", "SCENARIOS",
           "NeighbourhoodWatch", "Params", "RunResult", "provenance_table", "run", "summarise"]
