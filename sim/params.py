"""Model parameters: one typed, validated object with provenance for every field.

Each field carries metadata:
- ``range``: the allowed closed interval (or the allowed choices for a string);
- ``source``: its provenance, beginning with ``facts.md:`` (a fact in ``shared/domain/facts.md``),
  ``inferred:`` (our arithmetic on such facts), ``calibrated:`` (fitted by the calibration, which
  fits exactly the parameters of ``conf/targets/priors.yaml``) or ``assumption:`` (with the reason),
  and saying which part is fact, inference or guess;
- ``doc``: what it means, with its unit.

Scenarios of the model brief are named presets (``SCENARIOS``): each holds only what
differs from ``baseline``. ``Params.preset("officer_in_group")`` builds one on top of the point
calibration shipped with the package (``sim/calibrated.yaml``), which is also what ``sim.run()``
and the command line use by default; ``Params()`` alone is the uncalibrated model.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

FACTS = "facts.md"  # shared/domain/facts.md
CALIBRATED_FILE = Path(__file__).with_name("calibrated.yaml")  # package data (pyproject.toml)
# the source of a parameter the calibration carries (conf/targets/priors.yaml: carried)
CARRIED = ("calibrated: carried, not fitted (every calibration study and posterior row draws it from its "
           "prior; conf/targets/priors.yaml); ")


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
    n_households: int = param(1000, 10, 200_000, source="assumption: the work unit of issue 2 (a "
                                                        "neighbourhood of 1,000 households)",
                                                 doc="households (network nodes)")
    houses_per_street: int = param(20, 2, 200, source="assumption: a typical Dutch residential "
                                                      "street segment",
                                               doc="houses per street segment in the layout")
    coverage: float = param(0.25, 0.0, 1.0, source="facts.md: 24.7% (2016) to 26.7% (2018) of "
                                                   "surveyed households are in a group (NIPW "
                                                   "survey); 0.25 is our rounding",
                                            doc="share of households in the group")
    area_join_share: float = param(0.6, 0.05, 1.0, source="assumption: a group covers a set of "
                                                          "streets where most but not all "
                                                          "households join",
                                   doc="share of households joining inside the group's area")
    sight_range: int = param(3, 1, 20, source="assumption: one sees a few houses each way and "
                                              "across the street",
                                       doc="houses visible each way along a street")
    social_ties: float = param(3.0, 0.0, 50.0, source="assumption: a few neighbours one knows by "
                                                      "name",
                                               doc="mean social ties per household at the start")
    n_admins: int = param(1, 0, 5, source="facts.md: each of the six groups had an admin who kept "
                                          "contact with the officer; that it is one admin is our "
                                          "assumption", doc="administrators (beheerders) of each group")
    group_size: float = param(68.0, 2.0, 256.0, source="facts.md: typical group size 60-75 members "
                              "(WABP admin panel 2017; cap 256); 68 is our midpoint",
                              doc="members per group at the start: the neighbourhood's members are split "
                                  "into round(members / group_size) groups (at least one), each over "
                                  "its own streets")

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
                                                            "situations (deliveries, visitors, new "
                                                            "residents, youths) far outnumber "
                                                            "offences (model brief); about 10x "
                                                            "offences is a guess",
                                  doc="innocent ambiguous situations per 1,000 households per month")
    minority_share: float = param(0.2, 0.0, 1.0, source="assumption: share of passers-by from a "
                                                        "visible minority; varies by city (higher "
                                                        "in Amsterdam)",
                                  doc="minority share among persons in situations")
    offender_minority_share: float = param(0.2, 0.0, 1.0, source="assumption: equal to passers-by, "
                                                                 "so that any over-representation "
                                                                 "comes from appraisal, not from "
                                                                 "the world",
                                                          doc="minority share among offenders")
    offender_stay_minutes: float = param(20.0, 1.0, 480.0, source=CARRIED + "tried against the study "
                                                                  "targets (Lastage follow-up "
                                                                  "shares, Lastage arrests, groups "
                                                                  "with arrests; "
                                                                  "conf/targets/targets.yaml) but "
                                                                  "not identified: posterior ≈ "
                                                                  "prior U(5, 60) (conf/calibration"
                                                                  "/calibrated.yaml); the default "
                                                                  "is a hand-set value; assumption "
                                                                  "behind it: a burglary or vehicle"
                                                                  " crime takes minutes, not hours",
                                         doc="mean time an offender stays at the scene")
    innocent_stay_minutes: float = param(15.0, 1.0, 480.0, source="assumption: a delivery or visit "
                                                                  "takes minutes",
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
    observe_prob: float = param(0.25, 0.0, 1.0, source="calibrated: fitted to the study targets "
                                                       "(Lastage reports, reports per month across "
                                                       "six groups, undesired episodes; "
                                                       "conf/targets/targets.yaml) but not "
                                                       "identified: posterior ≈ prior U(0.05, 0.6) "
                                                       "(sim/calibrated.yaml); the "
                                                       "default is a hand-set value; assumption "
                                                       "behind it: a resident at home within sight "
                                                       "notices a situation now and then",
                                doc="base chance of noticing a situation in view")
    alertness_observe_gain: float = param(1.0, 0.0, 10.0, source="assumption: alert residents look "
                                                                 "out more (model brief, process "
                                                                 "2); the size is a guess",
                                          doc="noticing chance multiplier is 1 + gain x alertness")
    recognise_offence_prob: float = param(0.6, 0.0, 1.0, source="assumption: most offences in view "
                                                                "look suspicious",
                                                         doc="chance a noticed offence looks suspicious")
    ambiguous_suspicion_prob: float = param(0.15, 0.0, 1.0, source="calibrated: fitted to the study"
                                                                   " targets (Lastage reports, "
                                                                   "reports per month across six "
                                                                   "groups, undesired episodes; "
                                                                   "conf/targets/targets.yaml) but "
                                                                   "not identified: posterior ≈ "
                                                                   "prior log-U(0.01, 0.3) (conf/ca"
                                                                   "libration/calibrated.yaml); the"
                                                                   " default is a hand-set value; "
                                                                   "assumption behind it: an "
                                                                   "unafraid, unbiased resident "
                                                                   "rarely suspects an innocent "
                                                                   "person",
                                                            doc="chance a noticed innocent situation looks suspicious")
    fear_suspicion_gain: float = param(1.5, 0.0, 20.0, source="assumption: fear raises suspicion "
                                                              "(model brief, process 3); the size "
                                                              "is a guess",
                                       doc="suspicion multiplier is 1 + gain x fear")
    bias_mean: float = param(0.3, 0.0, 1.0, source="assumption: moderate average bias; facts.md "
                                                   "(Mols & Pridmore 2019, qualitative) reports "
                                                   "profiling of passers-by, not its extent",
                             doc="mean out-group bias of residents")
    bias_suspicion_gain: float = param(1.5, 0.0, 20.0, source="assumption: bias makes a minority "
                                                              "person look more suspicious (model "
                                                              "brief, process 3); the size is a "
                                                              "guess",
                                       doc="suspicion multiplier for a minority person is 1 + gain x bias")
    stigmatising_prob: float = param(0.3, 0.0, 1.0, source=CARRIED + "tried against the study targets"
                                                           " (undesired episodes; "
                                                           "conf/targets/targets.yaml) but not "
                                                           "identified: posterior ≈ prior U(0.05, "
                                                           "0.6) "
                                                           "(sim/calibrated.yaml); the"
                                                           " default is a hand-set value; "
                                                           "assumption behind it: part of the "
                                                           "reports about a minority person name "
                                                           "appearance (facts.md, qualitative)",
                                                    doc="stigmatising-report chance of an author with bias 0.3 (the baseline's mean), "
                                         "proportional to bias, capped at 1")
    stigma_bias_gain: float = param(0.02, 0.0, 1.0, source="assumption: a post naming appearance "
                                    "confirms readers' stereotype (no Dutch measurement; small)",
                                    doc="bias gained per stigmatising message read (share of the gap to 1)")
    stigma_go_out_gain: float = param(1.0, 0.0, 10.0, source="assumption: a description by appearance "
                                      "points readers at a person (the crowd after a false alarm about a "
                                      "newspaper deliverer, facts.md); doubling is a guess",
                                      doc="going-out chance after a stigmatising signal is multiplied by 1 + gain")

    # --- residents: response ----------------------------------------------------------------
    reaction_minutes: float = param(5.0, 0.1, 120.0, source="assumption: people act within minutes "
                                                            "of noticing",
                                                     doc="mean delay between noticing and acting")
    trait_concentration: float = param(8.0, 1.0, 1000.0, source="assumption: moderate heterogeneity",
                                       doc="beta concentration of trust and bias across residents "
                                           "(higher = more alike)")
    call_112_prob: float = param(0.1, 0.0, 1.0, source=CARRIED + "tried against the study targets "
                                                       "(Lastage reports, reports per month across "
                                                       "six groups, Lastage follow-up shares; "
                                                       "conf/targets/targets.yaml) but not "
                                                       "identified: posterior ≈ prior U(0.02, 0.25)"
                                                       " (sim/calibrated.yaml); the "
                                                       "default is a hand-set value; assumption "
                                                       "behind it: facts.md says calling 112 is "
                                                       "rare (qualitative), so well below posting",
                                 doc="chance a member who finds a situation suspicious calls 112")
    nonmember_call_112_prob: float = param(0.1, 0.0, 1.0, source="assumption: non-members call as "
                                                                 "often as members; no source",
                                           doc="chance a non-member who finds it suspicious calls 112")
    saar_app_prob: float = param(0.8, 0.0, 1.0, source="assumption: most callers then post '112 "
                                                       "called' as the SAAR protocol (facts.md) "
                                                       "asks; the share is not measured",
                                 doc="chance a member who called 112 posts '112 called'")
    post_prob: float = param(0.5, 0.0, 1.0, source=CARRIED + "tried against the study targets "
                                                   "(Lastage reports, reports per month across six "
                                                   "groups, Lastage follow-up shares; "
                                                   "conf/targets/targets.yaml) but not identified: "
                                                   "posterior ≈ prior U(0.2, 0.9) "
                                                   "(sim/calibrated.yaml); the default"
                                                   " is a hand-set value; assumption behind it: "
                                                   "facts.md says signalling without follow-up is "
                                                   "the most common behaviour (qualitative)",
                                            doc="chance a member who did not call 112 posts")
    investigate_prob: float = param(0.03, 0.0, 1.0, source=CARRIED + "tried against the study targets"
                                                           " (undesired episodes; "
                                                           "conf/targets/targets.yaml) but not "
                                                           "identified: posterior ≈ prior "
                                                           "log-U(0.003, 0.1) "
                                                           "(sim/calibrated.yaml); the"
                                                           " default is a hand-set value; "
                                                           "assumption behind it: facts.md says "
                                                           "residents investigate themselves 'now "
                                                           "and then' (qualitative)",
                                                    doc="base chance of going to look oneself")
    go_out_prob: float = param(0.01, 0.0, 1.0, source=CARRIED + "tried against the study targets "
                                                      "(undesired episodes; "
                                                      "conf/targets/targets.yaml) but not "
                                                      "identified: posterior ≈ prior log-U(0.002, "
                                                      "0.05) (sim/calibrated.yaml); "
                                                      "the default is a hand-set value; assumption "
                                                      "behind it: a few readers nearby go out after"
                                                      " a signal (facts.md: a crowd after a false "
                                                      "alarm, an anecdote)",
                               doc="chance a reader on the scene's street goes out to look")
    crowd_size: int = param(3, 2, 100, source="assumption: three or more residents out at once",
                            doc="residents going out to one scene (in one episode) that count as a crowd")
    sighting_prob: float = param(0.1, 0.0, 1.0, source="assumption: readers within sight add what "
                                                       "they see",
                                                doc="chance a reader within sight posts a sighting")
    reply_prob: float = param(0.02, 0.0, 1.0, source="assumption: facts.md names thumbs-up replies "
                                                     "as a house-rule topic (so they occur); the "
                                                     "rate is a guess",
                                              doc="chance a reader replies to a message")
    strict_chatter_cut: float = param(0.7, 0.0, 1.0, source="assumption: under strict rules members"
                                                            " self-censor most chatter",
                                                     doc="share of chatter not posted under strict rules")
    tolerated_chatter_boost: float = param(2.0, 1.0, 10.0, source="assumption: tolerated chatter "
                                                                  "invites more",
                                                           doc="chatter multiplier when chatter is tolerated")
    offtopic_rate: float = param(0.02, 0.0, 10.0, source="assumption: facts.md says off-topic posts"
                                                         " ('lost cat') occur and are sanctioned; "
                                                         "the rate is a guess",
                                 doc="off-topic posts per member per month (under warn rules)")

    # --- residents: state dynamics ----------------------------------------------------------
    read_prob: float = param(0.9, 0.0, 1.0, source="assumption: most members read the group",
                             doc="chance a member reads a message at all")
    read_delay_minutes: float = param(60.0, 1.0, 1440.0, source="assumption: messages are read "
                                                                "within the hour",
                                                         doc="mean delay before a member reads")
    chatter_fatigue: float = param(0.2, 0.0, 10.0, source="assumption: chatter dulls attention "
                                                          "(facts.md: groups are meant to stay "
                                                          "silent until something happens); the "
                                                          "size is a guess",
                                   doc="read chance divided by 1 + fatigue x messages/day (7-day mean)")
    alertness_gain: float = param(0.08, 0.0, 1.0, source="assumption: facts.md gives no number for "
                                                         "how much groups raise alertness; the "
                                                         "brief's process 5 says reading a signal "
                                                         "raises it; the size is a guess",
                                  doc="alertness gained per signal read (share of the gap to 1)")
    alertness_talk_gain: float = param(0.5, 0.0, 1.0, source="assumption: neighbours pass on 'keep an "
                                       "eye out' when they talk (at talk_rate), members or not; no measurement",
                                       doc="share of the gap to a more alert tie's alertness closed per talk")
    fear_gain: float = param(0.04, 0.0, 1.0, source="assumption: Prieto Curiel & Bishop (2017, "
                                                    "facts.md): talk about crime raises perceived "
                                                    "insecurity; the size is a guess",
                             doc="fear gained per signal read (share of the gap to 1)")
    victim_fear_gain: float = param(0.5, 0.0, 1.0, source="assumption: Prieto Curiel & Bishop "
                                                          "(2017, facts.md): victimisation raises "
                                                          "fear most; the size is a guess",
                                    doc="fear gained by a victim household")
    talk_rate: float = param(0.1, 0.0, 1.0, source="assumption: Prieto Curiel & Bishop (2017, "
                                                   "facts.md) model talk with others; the rate is a"
                                                   " guess", doc="chance per day of talking about safety with each tie")
    talk_fear_gain: float = param(0.05, 0.0, 1.0, source="assumption: Prieto Curiel & Bishop (2017,"
                                                         " facts.md) mechanism; the size is a guess",
                                  doc="fear gained per talk with an afraid tie (share of the gap to 1)")
    fear_baseline: float = param(0.31, 0.0, 1.0, source="inferred: shared/domain/facts.md: CBS "
                                 "Veiligheidsmonitor: 14-18% sometimes feel unsafe in their own "
                                 "neighbourhood (2012-2019); with fear_concentration 6 a Beta baseline "
                                 "of mean 0.31 puts 15% above unsafe_threshold 0.5 before anything "
                                 "happens; the generic baseline then shows ~15% (measured, docs/odd.md "
                                 "7.14); calibration refines it",
                                 doc="mean of the residents' own fear baselines (Beta, concentration "
                                     "fear_concentration), the levels their fear decays towards")
    alertness_baseline: float = param(0.1, 0.0, 1.0, source="assumption: a low resting level; no "
                                                            "source",
                                      doc="alertness level memory decays towards")
    fear_memory_days: float = param(30.0, 1.0, 3650.0, source="assumption: Prieto Curiel & Bishop "
                                                              "(2017, facts.md) model forgetting; "
                                                              "30 days is a guess",
                                                       doc="e-folding time of fear decay (days)")
    alertness_memory_days: float = param(14.0, 1.0, 3650.0, source="assumption: alertness fades "
                                                                   "faster than fear",
                                                            doc="e-folding time of alertness decay (days)")
    unsafe_threshold: float = param(0.5, 0.0, 1.0, source="assumption: midpoint of the scale",
                                    doc="fear above which a resident 'sometimes feels unsafe' "
                                        "(CBS: voelt zich weleens onveilig in de eigen buurt)")
    trust_mean: float = param(0.6, 0.01, 1.0, source="assumption: moderate trust in police in NL; "
                                                     "not taken from a survey",
                              doc="mean trust in police")
    feedback_trust_gain: float = param(0.05, 0.0, 1.0, source="assumption: model brief, process 7 "
                                                              "(feedback raises trust); the size is"
                                                              " a guess",
                                                       doc="trust gained per feedback read")
    unanswered_trust_loss: float = param(0.05, 0.0, 1.0, source="assumption: residents are "
                                         "disappointed when a report comes to nothing (facts.md: feedback "
                                         "is often absent); the size is a guess, as large as a feedback's gain",
                                         doc="share of trust a 112 caller loses when the report gets "
                                             "neither follow-up nor feedback")
    feedback_fear_relief: float = param(0.05, 0.0, 1.0, source="assumption: model brief, process 7 "
                                                               "(feedback lowers fear); the size is"
                                                               " a guess",
                                                        doc="share of fear removed per police feedback or closing message read")
    tie_prob: float = param(0.05, 0.0, 1.0, source="assumption: facts.md says online contact leads "
                                                   "to offline contact (qualitative); the rate is a"
                                                   " guess",
                            doc="chance two members active in one episode form a tie")

    # --- the administrator (beheerder) and the group's rules ----------------------------------
    admin_availability: float = param(0.7, 0.0, 1.0, source="assumption: admins are volunteers, not"
                                                            " always on",
                                                     doc="chance the admin responds to a message")
    admin_delay_minutes: float = param(20.0, 1.0, 1440.0, source="assumption: an admin reacts "
                                                                 "within tens of minutes; no source",
                                       doc="mean delay of an admin's moderation")
    chatter_rule: str = param("warn", source="facts.md: the usual house rule is a warning, then "
                                             "removal",
                              doc="off-topic rule: tolerated | warn (warn, then remove) | "
                                  "strict (remove all chatter, members self-censor)",
                              choices=("tolerated", "warn", "strict"))
    remove_profiling: bool = param(True, source="facts.md: admins sanction profiling posts",
                                   doc="admin removes stigmatising messages", choices=(False, True))
    warnings_before_removal: int = param(1, 0, 10, source="facts.md: 'one warning, then removed'",
                                         doc="warnings before a member is removed from the group")
    warning_lapse_days: float = param(90.0, 1.0, 36500.0, source="assumption: an admin remembers a "
                                      "warning for a season; no source gives the practice",
                                      doc="days after the last warning at which a member's warnings lapse")
    saar_enforced: bool = param(False, source="assumption: scenario switch, off at baseline because"
                                              " the study's groups did not enforce SAAR (facts.md: "
                                              "112 is called rarely)",
                                doc="admin asks '112 called?' after an app-only signal",
                                choices=(False, True))
    saar_comply_prob: float = param(0.5, 0.0, 1.0, source="assumption: half of posters then call",
                                    doc="chance a poster calls 112 when the admin asks")
    admin_liaison: bool = param(True, source="facts.md: all officers keep contact with the admins",
                                doc="admin passes reports to the officer", choices=(False, True))
    admin_forward_prob: float = param(0.5, 0.0, 1.0, source=CARRIED + "tried against the study "
                                                            "targets (Lastage reports, reports per "
                                                            "month across six groups, Lastage "
                                                            "follow-up shares; "
                                                            "conf/targets/targets.yaml) but not "
                                                            "identified: posterior ≈ prior U(0.1, "
                                                            "0.9) "
                                                            "(sim/calibrated.yaml); "
                                                            "the default is a hand-set value; "
                                                            "assumption behind it: the admin passes"
                                                            " on part of the signals (facts.md: "
                                                            "admins keep contact with the officer)",
                                                     doc="chance the admin forwards a signal")
    closing_prob: float = param(0.5, 0.0, 1.0, source="assumption: facts.md says admins post a "
                                                      "closing message ('afmelding') after an "
                                                      "incident; how often is a guess",
                                               doc="chance of a closing message")
    correction_relief: float = param(0.5, 0.0, 1.0, source="assumption: rumour models with debunkers "
                                     "(Mazzoli et al. 2018, facts.md) let a correction undo much of a false "
                                     "alarm; the share is a guess",
                                     doc="share of readers' alertness and fear above baseline removed by an "
                                         "afmelding that corrects a false alarm")
    report_form: bool = param(False, source="assumption: scenario switch (Nextdoor-style structured"
                                            " form, facts.md); off at baseline because Dutch groups"
                                            " use plain WhatsApp",
                              doc="members post signals through a structured form", choices=(False, True))
    report_form_profiling_cut: float = param(0.75, 0.0, 1.0, source="facts.md: Nextdoor 2016: the "
                                                                    "form cut posts with racial "
                                                                    "profiling by 75% in test "
                                                                    "markets (US; that it transfers"
                                                                    " to Dutch groups is our "
                                                                    "assumption)",
                                             doc="share of would-be stigmatising reports the form prevents")
    report_form_friction: float = param(0.1, 0.0, 1.0, source="assumption: facts.md says the form's"
                                                              " effect on total posts was not "
                                                              "published; a small deterrent is a "
                                                              "guess",
                                        doc="share of signals not posted because of the form")
    relay_prob: float = param(0.5, 0.0, 1.0, source="assumption: facts.md says admins often sit "
                              "in adjacent groups and a central admins' group and pass reports on; "
                              "how often is not reported, so half",
                              doc="chance an available admin passes a group's signal on to the central "
                                  "admins' group, and chance an adjacent group's admin posts it in theirs")
    relay_delay_minutes: float = param(30.0, 1.0, 1440.0, source="assumption: passing a report on "
                                       "takes an admin a little longer than reacting in their own group "
                                       "(admin_delay_minutes)",
                                       doc="mean delay (exponential) of each relay step")

    # --- police: community officer (wijkagent) and emergency response -------------------------
    officer_in_group: bool = param(False, source="facts.md: the officer is in the group in 1 of 6 "
                                                 "cases; baseline follows the majority (not in the "
                                                 "group)",
                                   doc="the community officer is a member and reads along",
                                   choices=(False, True))
    officer_reads_prob: float = param(0.4, 0.0, 1.0, source="assumption: the officer reads part of "
                                                            "the group's messages (model brief: "
                                                            "limited hours); no source for the "
                                                            "share",
                                      doc="chance the officer reads a message in time")
    officer_duty_start_hour: int = param(8, 0, 23, source="assumption: a wijkagent works day shifts "
                                         "(model brief: limited hours); weekends and leave are not modelled",
                                         doc="hour of day the officer's duty begins")
    officer_duty_hours: int = param(9, 1, 24, source="assumption: a working day", doc="hours on duty a day")
    officer_action_delay_minutes: float = param(60.0, 0.0, 10080.0, source="assumption: a wijkagent "
                                                "handles a passed-on report between other work",
                                                doc="mean delay, on duty, before the officer acts on a report")
    officer_urgent_minutes: float = param(30.0, 0.0, 1440.0, source="assumption: a signal less than "
                                          "half an hour old is treated as still going on",
                                          doc="age of a situation below which the officer sends a unit "
                                              "(the officer cannot see whether the person is still there)")
    officer_action_prob: float = param(0.5, 0.0, 1.0, source=CARRIED + "tried against the study "
                                                             "targets (Lastage reports, reports per"
                                                             " month across six groups, Lastage "
                                                             "follow-up shares; "
                                                             "conf/targets/targets.yaml) but not "
                                                             "identified: posterior ≈ prior U(0.1, "
                                                             "0.9) "
                                                             "(sim/calibrated.yaml); "
                                                             "the default is a hand-set value; "
                                                             "assumption behind it: the officer "
                                                             "acts on part of what reaches them",
                                       doc="chance the officer acts on a report reaching them")
    dispatch_prob: float = param(0.8, 0.0, 1.0, source="calibrated: fitted to the study targets "
                                                       "(Lastage follow-up shares (facts.md: a unit"
                                                       " went to look at 24 of 42 Lastage reports, "
                                                       "0.57 of reports, which is not the same as "
                                                       "the share of 112 calls); "
                                                       "conf/targets/targets.yaml) but not "
                                                       "identified: posterior ≈ prior U(0.3, 1) "
                                                       "(sim/calibrated.yaml); the "
                                                       "default is a hand-set value; assumption "
                                                       "behind it: a 112 call usually gets a unit",
                                                doc="chance a 112 call gets a unit sent to look")
    response_capacity: int = param(4, 0, 1000, source="assumption: units the base team can send to "
                                                      "this neighbourhood per day",
                                               doc="dispatches per day at most")
    response_minutes: float = param(12.0, 1.0, 240.0, source="assumption: Dutch urgent-response "
                                                             "norm is about 15 minutes (not in "
                                                             "facts.md)",
                                                      doc="median response time (lognormal)")
    response_spread: float = param(0.5, 0.0, 2.0, source="assumption: response times vary within a "
                                                         "factor of about 1.6",
                                                  doc="sigma of log response time")
    arrest_prob: float = param(0.5, 0.0, 1.0, source=CARRIED + "tried against the study targets "
                                                     "(Lastage arrests (facts.md: 5 of 42 reports),"
                                                     " groups with arrests (1 of 6); "
                                                     "conf/targets/targets.yaml) but not "
                                                     "identified: posterior ≈ prior U(0.1, 1) "
                                                     "(sim/calibrated.yaml); the "
                                                     "default is a hand-set value; assumption "
                                                     "behind it: an offender still there is likely,"
                                                     " not certainly, arrested",
                                              doc="chance of an arrest when the offender is still there")
    police_feedback: bool = param(False, source="assumption: scenario switch 'feedback after every "
                                                "report'; off at baseline because facts.md says "
                                                "feedback is often absent",
                                  doc="police report back about every report the group saw (through the "
                                      "officer in the group, else an available admin)",
                                  choices=(False, True))
    feedback_prob: float = param(0.3, 0.0, 1.0, source="calibrated: fitted to the study targets "
                                                       "(feedback_share: facts.md, police feedback to the "
                                                       "group is often absent); 0.3 is the prior guess",
                                                doc="chance of feedback without the feedback rule")

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
        check_combination(self)

    # -- construction helpers --------------------------------------------------------------
    @classmethod
    def preset(cls, name: str = "baseline", calibration: str | None = "calibrated",
               **overrides: Any) -> "Params":
        """The named scenario preset on top of a calibration, with optional overrides.

        ``calibration``: ``"calibrated"`` (the default, as in ``sim.run()`` and on the command
        line) starts from ``sim/calibrated.yaml``; ``None`` or ``"none"`` from the field defaults.
        """
        if name not in SCENARIOS:
            raise ValueError(f"unknown scenario {name!r}; choose one of {sorted(SCENARIOS)}")
        return cls.from_dict({**calibration_values(calibration), **SCENARIOS[name], **overrides})

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


def calibration_values(name: str | None = "calibrated") -> dict[str, Any]:
    """The parameter values of a calibration shipped with the package.

    ``"calibrated"``: the point calibration in ``sim/calibrated.yaml`` (written by
    ``python -m experiments.calibrate``; its header says how), the one default of the API and the
    command line. ``None`` or ``"none"``: no values, i.e. the field defaults (uncalibrated).
    """
    if name is None or name == "none":
        return {}
    if name != "calibrated":
        raise ValueError(f"unknown calibration {name!r}; choose 'calibrated' or 'none'")
    values = yaml.safe_load(CALIBRATED_FILE.read_text()) or {}
    if not isinstance(values, dict):
        raise ValueError(f"{CALIBRATED_FILE} is not a mapping of parameter names to values")
    return values


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
    if isinstance(value, bool) or not isinstance(value, kind if kind is int else (int, float)):
        raise ValueError(f"parameter {name!r} = {value!r} must be a{'n integer' if kind is int else ' number'} "
                         f"in [{lo}, {hi}]")
    if not lo <= value <= hi:
        raise ValueError(f"parameter {name!r} = {value!r} is out of range [{lo}, {hi}]")


def check_combination(p: Params) -> None:
    """Raise a ValueError for a rule switched on that needs someone who is absent.

    Error: ``saar_enforced`` needs an admin, and admins are drawn from the members at the start,
    so it needs ``n_admins`` >= 1 and at least one member (``round(coverage * n_households)``).
    Harmless, and therefore allowed without a warning (the setting simply has no effect): without
    an admin, ``admin_liaison``, ``admin_forward_prob``, ``remove_profiling``,
    ``warnings_before_removal``, ``closing_prob`` and the removals of ``chatter_rule`` do nothing
    (under ``strict`` members still self-censor); without members, ``officer_in_group``,
    ``report_form`` and ``police_feedback`` reach nobody; ``n_admins`` larger than the group is
    capped at its size.
    """
    members = round(p.coverage * p.n_households)
    if p.saar_enforced and (p.n_admins == 0 or members == 0):
        raise ValueError(f"parameter 'saar_enforced' = True needs an admin (beheerder), but "
                         f"n_admins = {p.n_admins} and coverage = {p.coverage} gives {members} members")


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
