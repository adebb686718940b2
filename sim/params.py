"""Model parameters: one typed, validated object with provenance for every field.

Each field carries metadata:
- ``range``: the allowed closed interval (or the allowed choices for a string);
- ``source``: the fact in ``shared/domain/facts.md`` it is calibrated to, or
  ``assumption: <reason>`` where no fact exists;
- ``doc``: what it means, with its unit.

Scenarios of the model brief are named presets (``SCENARIOS``): each holds only what
differs from ``baseline``. ``Params.preset("officer_in_group", seed=...)`` builds one.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass, field
from typing import Any

FACTS = "shared/domain/facts.md"


def param(default, lo=None, hi=None, *, source: str, doc: str, choices=None):
    """A parameter field with its range, provenance and meaning."""
    allowed = tuple(choices) if choices is not None else (lo, hi)
    return field(default=default, metadata={"range": allowed, "source": source, "doc": doc})


# The true incidence of offences (issue 15, item 14). The WABP admin panel counts what admins saw
# reported in their groups (already observed and signalled), so it is a check on what the model's
# groups see, not an input; the incidence comes from the national registered figures.
NATIONAL_BURGLARY = (
    f"inferred: {FACTS}: registered residential burglaries incl. attempts 23,500-39,000 a year "
    "(2019-2021) on ~8 million households = 2.9-4.9 per 1,000 households a year, midpoint "
    "0.32 a month; assumption: residential burglary is nearly always registered (insurance), so "
    "registered ~ true incidence; split by the WABP admin panel's mix (Oct 2017)"
)
PANEL_MIX = (
    f"inferred: {FACTS}: no national figure; the WABP admin panel's mix (Oct 2017: burglary 60, "
    "attempted burglary 67) scaled to the national burglary incidence (0.32 per 1,000 households "
    "a month for 127 burglaries and attempts); assumption: the panel's mix holds for the incidence"
)


@dataclass(frozen=True)
class Params:
    """All parameters of the neighbourhood-watch model (defaults = baseline, generic case)."""

    # --- neighbourhood -------------------------------------------------------------------
    n_households: int = param(1000, 10, 200_000, source="assumption: the work unit of issue 2 "
                              "(a neighbourhood of 1,000 households)", doc="households (network nodes)")
    houses_per_street: int = param(20, 2, 200, source="assumption: a typical Dutch residential street "
                                   "segment", doc="houses per street segment in the layout")
    coverage: float = param(0.25, 0.0, 1.0, source=f"{FACTS}: 24.7% (2016) to 26.7% (2018) of "
                            "households in a group", doc="share of households in the group")
    area_join_share: float = param(0.6, 0.05, 1.0, source="assumption: a group covers a set of "
                                   "streets where most but not all households join",
                                   doc="share of households joining inside the group's area")
    sight_range: int = param(3, 1, 20, source="assumption: one sees a few houses each way and "
                             "across the street", doc="houses visible each way along a street")
    social_ties: float = param(3.0, 0.0, 50.0, source="assumption: a few neighbours one knows "
                               "by name", doc="mean social ties per household at the start")
    n_admins: int = param(1, 0, 5, source=f"{FACTS}: each of the six groups had an admin who "
                          "kept contact with the officer", doc="administrators (beheerders)")

    # --- the exogenous world: situations ----------------------------------------------------
    burglary_rate: float = param(0.15, 0.0, 50.0, source=NATIONAL_BURGLARY + " x 60/127 "
                                 "(burglaries among the panel's burglaries and attempts)",
                                 doc="burglaries per 1,000 households per month (true incidence)")
    attempted_burglary_rate: float = param(0.17, 0.0, 50.0, source=NATIONAL_BURGLARY + " x 67/127 "
                                           "(attempts among the panel's burglaries and attempts)",
                                           doc="attempted burglaries per 1,000 households per month "
                                               "(true incidence)")
    vehicle_crime_rate: float = param(0.18, 0.0, 50.0, source=PANEL_MIX + " (car damage 42 + "
                                      "attempted car theft 30)",
                                      doc="vehicle crimes per 1,000 households per month (true incidence)")
    vandalism_rate: float = param(0.10, 0.0, 50.0, source=PANEL_MIX + " (other vandalism 40)",
                                  doc="acts of vandalism per 1,000 households per month (true incidence)")
    ambiguous_rate: float = param(40.0, 0.0, 1000.0, source="assumption: innocent but ambiguous "
                                  "situations (deliveries, visitors, new residents, youths) far "
                                  "outnumber offences (model brief); ~10x offences",
                                  doc="innocent ambiguous situations per 1,000 households per month")
    minority_share: float = param(0.2, 0.0, 1.0, source="assumption: share of passers-by from a "
                                  "visible minority; varies by city (higher in Amsterdam)",
                                  doc="minority share among persons in situations")
    offender_minority_share: float = param(0.2, 0.0, 1.0, source="assumption: equal to passers-by, "
                                           "so that any over-representation comes from appraisal, "
                                           "not from the world", doc="minority share among offenders")
    offender_stay_minutes: float = param(20.0, 1.0, 480.0, source="assumption: a burglary or "
                                         "vehicle crime takes minutes, not hours",
                                         doc="mean time an offender stays at the scene")
    innocent_stay_minutes: float = param(15.0, 1.0, 480.0, source="assumption: a delivery or visit",
                                         doc="mean time an innocent person stays in view")
    deterrence: float = param(0.35, 0.0, 1.0, source=f"inferred: {FACTS}: Bennett, Holloway & "
                              "Farrington (2008): classic neighbourhood watch, 16-26% less crime "
                              "(1 - 1/OR, OR 1.19-1.36); 0.35 gives about 20% fewer offences in the "
                              "group's area (members in sight ~0.55, measured, docs/odd.md 7.2), and "
                              "0.29-0.47 gives 16-26%. Only a prior: a WhatsApp group is no classic "
                              "watch scheme and the study could not establish prevention (0 allowed)",
                              doc="share of offences abandoned at a scene where every household in "
                                  "sight is a member at baseline alertness; the chance scales with the "
                                  "member share in sight and with (1 + alertness) / (1 + "
                                  "alertness_baseline) of those households")

    # --- residents: observation and appraisal -----------------------------------------------
    home_day_share: float = param(0.5, 0.0, 1.0, source="assumption: about half of households have "
                                  "someone at home and awake by day (07-23h)",
                                  doc="chance a household can see the street by day")
    home_night_share: float = param(0.05, 0.0, 1.0, source="assumption: most are asleep at night",
                                    doc="chance a household can see the street at night (23-07h)")
    observe_prob: float = param(0.25, 0.0, 1.0, source="assumption (calibrated): chance a resident "
                                "at home within sight notices a situation",
                                doc="base chance of noticing a situation in view")
    alertness_observe_gain: float = param(1.0, 0.0, 10.0, source="assumption: alert residents "
                                          "look out more (model brief, process 2)",
                                          doc="noticing chance multiplier is 1 + gain x alertness")
    recognise_offence_prob: float = param(0.6, 0.0, 1.0, source="assumption: most offences in view "
                                          "look suspicious", doc="chance a noticed offence looks suspicious")
    ambiguous_suspicion_prob: float = param(0.15, 0.0, 1.0, source="assumption (calibrated): an "
                                            "unafraid, unbiased resident rarely suspects an innocent "
                                            "person", doc="chance a noticed innocent situation looks suspicious")
    fear_suspicion_gain: float = param(1.5, 0.0, 20.0, source="assumption: fear raises suspicion "
                                       "(model brief, process 3)",
                                       doc="suspicion multiplier is 1 + gain x fear")
    bias_mean: float = param(0.3, 0.0, 1.0, source="assumption: moderate average bias; literature "
                             "(Mols & Pridmore 2019) reports profiling of passers-by",
                             doc="mean out-group bias of residents")
    bias_suspicion_gain: float = param(1.5, 0.0, 20.0, source="assumption: bias makes a minority "
                                       "person look more suspicious (model brief, process 3)",
                                       doc="suspicion multiplier for a minority person is 1 + gain x bias")
    stigmatising_prob: float = param(0.3, 0.0, 1.0, source="assumption: share of reports about a "
                                     "minority person that name appearance rather than behaviour, "
                                     "at average bias", doc="stigmatising-report chance at mean bias")

    # --- residents: response ----------------------------------------------------------------
    reaction_minutes: float = param(5.0, 0.1, 120.0, source="assumption: people act within minutes "
                                    "of noticing", doc="mean delay between noticing and acting")
    trait_concentration: float = param(8.0, 1.0, 1000.0, source="assumption: moderate heterogeneity",
                                       doc="beta concentration of trust and bias across residents "
                                           "(higher = more alike)")
    call_112_prob: float = param(0.1, 0.0, 1.0, source=f"{FACTS}: calling 112 is rare",
                                 doc="chance a member who finds a situation suspicious calls 112")
    nonmember_call_112_prob: float = param(0.1, 0.0, 1.0, source="assumption: as members",
                                           doc="chance a non-member who finds it suspicious calls 112")
    saar_app_prob: float = param(0.8, 0.0, 1.0, source=f"{FACTS}: SAAR protocol (App after Alarm)",
                                 doc="chance a member who called 112 posts '112 called'")
    post_prob: float = param(0.5, 0.0, 1.0, source=f"{FACTS}: signalling without follow-up is the "
                             "most common behaviour", doc="chance a member who did not call 112 posts")
    investigate_prob: float = param(0.03, 0.0, 1.0, source=f"{FACTS}: now and then residents "
                                    "investigate themselves", doc="base chance of going to look oneself")
    go_out_prob: float = param(0.01, 0.0, 1.0, source="assumption: a few readers nearby go out "
                               "after a signal (crowd after a false alarm, facts)",
                               doc="chance a reader near the scene goes out to look")
    crowd_size: int = param(3, 2, 100, source="assumption: three or more residents out at once",
                            doc="residents going out to one scene (in one episode) that count as a crowd")
    sighting_prob: float = param(0.1, 0.0, 1.0, source="assumption: readers within sight add what "
                                 "they see", doc="chance a reader within sight posts a sighting")
    reply_prob: float = param(0.02, 0.0, 1.0, source=f"{FACTS}: thumbs-up replies are common enough "
                              "to be a house-rule topic", doc="chance a reader replies to a message")
    strict_chatter_cut: float = param(0.7, 0.0, 1.0, source="assumption: under strict rules members "
                                      "self-censor most chatter", doc="share of chatter not posted under strict rules")
    tolerated_chatter_boost: float = param(2.0, 1.0, 10.0, source="assumption: tolerated chatter "
                                           "invites more", doc="chatter multiplier when chatter is tolerated")
    offtopic_rate: float = param(0.02, 0.0, 10.0, source=f"{FACTS}: off-topic posts ('lost cat') "
                                 "occur and are sanctioned; rate is an assumption",
                                 doc="off-topic posts per member per month (under warn rules)")

    # --- residents: state dynamics ----------------------------------------------------------
    read_prob: float = param(0.9, 0.0, 1.0, source="assumption: most members read the group",
                             doc="chance a member reads a message at all")
    read_delay_minutes: float = param(60.0, 1.0, 1440.0, source="assumption: messages are read "
                                      "within the hour", doc="mean delay before a member reads")
    chatter_fatigue: float = param(0.2, 0.0, 10.0, source="assumption: chatter dulls attention "
                                   "(reason groups keep silent until something happens, facts)",
                                   doc="read chance divided by 1 + fatigue x messages/day (7-day mean)")
    alertness_gain: float = param(0.08, 0.0, 1.0, source=f"{FACTS}: groups raise alertness",
                                  doc="alertness gained per signal read (share of the gap to 1)")
    fear_gain: float = param(0.04, 0.0, 1.0, source="assumption: Prieto Curiel & Bishop (2017): "
                             "talk about crime raises perceived insecurity",
                             doc="fear gained per signal read (share of the gap to 1)")
    victim_fear_gain: float = param(0.5, 0.0, 1.0, source="assumption: Prieto Curiel & Bishop "
                                    "(2017): victimisation raises fear most",
                                    doc="fear gained by a victim household")
    talk_rate: float = param(0.1, 0.0, 1.0, source="assumption: Prieto Curiel & Bishop (2017): talk "
                             "with afraid acquaintances",
                             doc="chance per day of talking about safety with each tie")
    talk_fear_gain: float = param(0.05, 0.0, 1.0, source="assumption: Prieto Curiel & Bishop (2017)",
                                  doc="fear gained per talk with an afraid tie (share of the gap to 1)")
    fear_baseline: float = param(0.31, 0.0, 1.0, source="inferred: shared/domain/facts.md: CBS "
                                 "Veiligheidsmonitor: 14-18% sometimes feel unsafe in their own "
                                 "neighbourhood (2012-2019); with fear_concentration 6 a Beta baseline "
                                 "of mean 0.31 puts 15% above unsafe_threshold 0.5 before anything "
                                 "happens; the generic baseline then shows ~15% (measured, docs/odd.md "
                                 "7.14); calibration refines it",
                                 doc="mean of the residents' own fear baselines (Beta, concentration "
                                     "fear_concentration), the levels their fear decays towards")
    alertness_baseline: float = param(0.1, 0.0, 1.0, source="assumption",
                                      doc="alertness level memory decays towards")
    fear_memory_days: float = param(30.0, 1.0, 3650.0, source="assumption: Prieto Curiel & Bishop "
                                    "(2017): forgetting", doc="e-folding time of fear decay (days)")
    alertness_memory_days: float = param(14.0, 1.0, 3650.0, source="assumption: alertness fades "
                                         "faster than fear", doc="e-folding time of alertness decay (days)")
    unsafe_threshold: float = param(0.5, 0.0, 1.0, source="assumption: midpoint of the scale",
                                    doc="fear above which a resident 'sometimes feels unsafe' "
                                        "(CBS: voelt zich weleens onveilig in de eigen buurt)")
    trust_mean: float = param(0.6, 0.01, 1.0, source="assumption: moderate trust in police in NL",
                              doc="mean trust in police")
    feedback_trust_gain: float = param(0.05, 0.0, 1.0, source="assumption: model brief, process 7 "
                                       "(feedback raises trust)", doc="trust gained per feedback read")
    feedback_fear_relief: float = param(0.05, 0.0, 1.0, source="assumption: model brief, process 7 "
                                        "(feedback lowers fear)", doc="share of fear removed per police feedback or closing message read")
    tie_prob: float = param(0.05, 0.0, 1.0, source=f"{FACTS}: online contact leads to offline "
                            "contact; rate is an assumption",
                            doc="chance two members active in one episode form a tie")

    # --- the administrator (beheerder) and the group's rules ----------------------------------
    admin_availability: float = param(0.7, 0.0, 1.0, source="assumption: admins are volunteers, not "
                                      "always on", doc="chance the admin responds to a message")
    admin_delay_minutes: float = param(20.0, 1.0, 1440.0, source="assumption",
                                       doc="mean delay of an admin's moderation")
    chatter_rule: str = param("warn", source=f"{FACTS}: usual house rule: a warning, then removal",
                              doc="off-topic rule: tolerated | warn (warn, then remove) | "
                                  "strict (remove all chatter, members self-censor)",
                              choices=("tolerated", "warn", "strict"))
    remove_profiling: bool = param(True, source=f"{FACTS}: admins sanction profiling posts",
                                   doc="admin removes stigmatising messages", choices=(False, True))
    warnings_before_removal: int = param(1, 0, 10, source=f"{FACTS}: 'one warning, then removed'",
                                         doc="warnings before a member is removed from the group")
    saar_enforced: bool = param(False, source="scenario: SAAR enforced by the admin",
                                doc="admin asks '112 called?' after an app-only signal",
                                choices=(False, True))
    saar_comply_prob: float = param(0.5, 0.0, 1.0, source="assumption: half of posters then call",
                                    doc="chance a poster calls 112 when the admin asks")
    admin_liaison: bool = param(True, source=f"{FACTS}: all officers keep contact with the admins",
                                doc="admin passes reports to the officer", choices=(False, True))
    admin_forward_prob: float = param(0.5, 0.0, 1.0, source="assumption (calibrated): the admin "
                                      "passes on part of the signals", doc="chance the admin forwards a signal")
    closing_prob: float = param(0.5, 0.0, 1.0, source=f"{FACTS}: admins post a closing message "
                                "('afmelding') after an incident", doc="chance of a closing message")
    report_form: bool = param(False, source="scenario: structured report form (Nextdoor-style)",
                              doc="members post signals through a structured form", choices=(False, True))
    report_form_profiling_cut: float = param(0.75, 0.0, 1.0, source=f"{FACTS}: Nextdoor 2016: the "
                                             "form cut profiling posts by 75%",
                                             doc="share of would-be stigmatising reports the form prevents")
    report_form_friction: float = param(0.1, 0.0, 1.0, source=f"{FACTS}: effect on total posts not "
                                        "published; assumption: a small deterrent",
                                        doc="share of signals not posted because of the form")

    # --- police: community officer (wijkagent) and emergency response -------------------------
    officer_in_group: bool = param(False, source=f"{FACTS}: the officer is in the group in 1 of 6 cases",
                                   doc="the community officer is a member and reads along",
                                   choices=(False, True))
    officer_reads_prob: float = param(0.4, 0.0, 1.0, source="assumption: limited duty hours",
                                      doc="chance the officer reads a message in time")
    officer_action_prob: float = param(0.5, 0.0, 1.0, source="assumption (calibrated)",
                                       doc="chance the officer acts on a report reaching them")
    dispatch_prob: float = param(0.8, 0.0, 1.0, source=f"{FACTS}: Lastage: 24 of 42 reports got a "
                                 "visit; calibrated", doc="chance a 112 call gets a unit sent to look")
    response_capacity: int = param(4, 0, 1000, source="assumption: units the base team can send to "
                                   "this neighbourhood per day", doc="dispatches per day at most")
    response_minutes: float = param(12.0, 1.0, 240.0, source="assumption: Dutch urgent-response norm "
                                    "is about 15 minutes", doc="median response time (lognormal)")
    response_spread: float = param(0.5, 0.0, 2.0, source="assumption: response times vary "
                                   "within a factor of about 1.6", doc="sigma of log response time")
    arrest_prob: float = param(0.5, 0.0, 1.0, source=f"{FACTS}: Lastage 5 arrests of 42 reports; "
                               "calibrated", doc="chance of an arrest when the offender is still there")
    police_feedback: bool = param(False, source=f"{FACTS}: feedback is often absent; scenario "
                                  "'police feedback after every report'",
                                  doc="police report back to the group after every report",
                                  choices=(False, True))
    feedback_prob: float = param(0.3, 0.0, 1.0, source=f"{FACTS}: police feedback to the group: "
                                 "often none", doc="chance of feedback without the feedback rule")

    # --- evidence (issue 9): fear on the survey scale, reassurance, crime, membership, warm-up -----
    fear_concentration: float = param(6.0, 1.0, 1000.0, source="inferred: shared/domain/facts.md: "
                                      "CBS: 14-18% sometimes and under 1% (safest districts) to ~10% "
                                      "(least safe) often feel unsafe; concentration 6 at mean 0.31 gives "
                                      "15% above 0.5 and 2% above 0.7 before anything happens",
                                      doc="beta concentration of the residents' fear baselines "
                                          "(higher = more alike)")
    often_unsafe_threshold: float = param(0.7, 0.0, 1.0, source="inferred: shared/domain/facts.md: "
                                          "CBS 2014: 'often unsafe' under 1% to ~10% by district; 0.7 "
                                          "puts ~2% of baselines above it, between those extremes",
                                          doc="fear above which a resident 'often feels unsafe' (CBS: "
                                              "voelt zich vaak onveilig); counted above the higher of "
                                              "this and unsafe_threshold")
    talk_relief: float = param(0.01, 0.0, 1.0, source="assumption: ties with unafraid neighbours "
                               "buffer fear (collective efficacy); small, so that the baseline still "
                               "sets the survey share; the mechanism by which ties the group creates "
                               "can reassure", doc="share of fear removed per talk with an unafraid tie")
    watch_reassurance: float = param(0.005, 0.0, 1.0, source="assumption: knowing that neighbours watch "
                                     "out (a group's signs and members on the street) reassures; "
                                     "chosen so that a street of members lowers its residents' settled "
                                     "fear by about 13% (docs/odd.md 7.14), against the group's alarms",
                                     doc="share of fear removed per day, times the member share among "
                                         "the households in sight of one's house")
    displacement: float = param(0.0, -1.0, 1.0, source="assumption: displacement and diffusion of "
                                "benefits are both documented in criminology (a review of situational "
                                "prevention, Guerette & Bowers 2009, not in facts.md, finds both about "
                                "equally often), so the default is neither",
                                doc="> 0: chance a deterred offence moves to a random other house "
                                    "(displacement); < 0: minus the chance it also prevents the next "
                                    "offence elsewhere in the neighbourhood (diffusion of benefits)")
    member_cap: int = param(256, 2, 10_000, source="facts.md: WhatsApp caps a group at 256 (earlier "
                            "100)", doc="most members a group admits by joining")
    incident_join_prob: float = param(0.1, 0.0, 1.0, source="assumption: a burglary on the street "
                                      "makes some neighbours join a group that is present there",
                                      doc="chance a non-member in sight of a burglary or attempt joins, "
                                          "if a member is in sight of it")
    invite_prob: float = param(0.00013, 0.0, 1.0, source="assumption: members add neighbours they "
                               "know; chosen so that a group of typical size (60-75 members, facts.md) "
                               "stays in that range over a year (docs/odd.md 7.15)",
                               doc="chance per day a member tie gets a non-member to join")
    traffic_leave_prob: float = param(0.001, 0.0, 1.0, source="assumption: too many messages make "
                                      "members leave (the reason groups keep silent, facts.md); chosen "
                                      "with invite_prob (docs/odd.md 7.15)",
                                      doc="chance per day a member leaves, per message a day in the "
                                          "group over the last 7 days")
    conflict_leave_prob: float = param(0.1, 0.0, 1.0, source="assumption: some members leave in "
                                       "annoyance when the admin warns them",
                                       doc="chance a member leaves the group after an admin's warning")
    warmup_days: int = param(90, 0, 3650, source="inferred: measured time for the generic baseline's "
                             "fear and alertness to settle from their start values: three "
                             "fear_memory_days (docs/odd.md 7.16)", doc="days simulated before outcomes are recorded")

    def __post_init__(self):
        for f in dataclasses.fields(self):
            check_value(f.name, getattr(self, f.name))

    # -- construction helpers --------------------------------------------------------------
    @classmethod
    def preset(cls, name: str = "baseline", **overrides: Any) -> "Params":
        """The named scenario preset, with optional overrides."""
        if name not in SCENARIOS:
            raise ValueError(f"unknown scenario {name!r}; choose one of {sorted(SCENARIOS)}")
        return cls.from_dict({**SCENARIOS[name], **overrides})

    @classmethod
    def from_dict(cls, values: dict[str, Any]) -> "Params":
        """Build from a mapping, naming any unknown key."""
        known = {f.name for f in dataclasses.fields(cls)}
        unknown = sorted(set(values) - known)
        if unknown:
            raise ValueError(f"unknown parameter(s) {unknown}; see sim.params.Params for the list")
        return cls(**values)

    def replace(self, **changes: Any) -> "Params":
        return type(self).from_dict({**self.to_dict(), **changes})

    def to_dict(self) -> dict[str, Any]:
        return dataclasses.asdict(self)


def check_value(name: str, value: Any) -> None:
    """Raise a ValueError naming the parameter, the value and what is allowed."""
    f = FIELDS[name]
    allowed = f.metadata["range"]
    if f.type in ("bool", bool) or f.type in ("str", str):
        if value not in allowed or type(value) is not type(allowed[0]):
            raise ValueError(f"parameter {name!r} = {value!r} is not allowed; choose one of {list(allowed)}")
        return
    lo, hi = allowed
    kind = int if f.type in ("int", int) else float
    if isinstance(value, bool) or not isinstance(value, (int, float)) or (
            kind is int and not float(value).is_integer()):
        raise ValueError(f"parameter {name!r} = {value!r} must be a{'n integer' if kind is int else ' number'} "
                         f"in [{lo}, {hi}]")
    if not lo <= value <= hi:
        raise ValueError(f"parameter {name!r} = {value!r} is out of range [{lo}, {hi}]")


FIELDS = {f.name: f for f in dataclasses.fields(Params)}

# Scenarios of the model brief: only what differs from baseline.
SCENARIOS: dict[str, dict[str, Any]] = {
    "baseline": {},
    "officer_in_group": {"officer_in_group": True},
    "saar_enforced": {"saar_enforced": True},
    "report_form": {"report_form": True},
    "no_admin": {"n_admins": 0},
    "police_feedback": {"police_feedback": True},
    "crime_only": {"chatter_rule": "strict"},
    "chatter_tolerated": {"chatter_rule": "tolerated"},
    "coverage_low": {"coverage": 0.10},
    "coverage_high": {"coverage": 0.50},
    "no_group": {"coverage": 0.0, "n_admins": 0},
}


def provenance_table() -> list[dict[str, Any]]:
    """One row per parameter: name, default, allowed range, meaning, source."""
    return [{"name": f.name, "default": f.default, "range": f.metadata["range"],
             "doc": f.metadata["doc"], "source": f.metadata["source"]}
            for f in dataclasses.fields(Params)]
