"""What the workshop app shows, as plain text: words (Dutch/English), the street map, the chat, plots.

No Solara here. Every function takes model state and returns a string (HTML or SVG), so the page
is cheap to redraw each day and can be tested without a browser. Outcomes are never computed
here: values come from ``sim.outcomes.summarise``; this module only names and draws them.
"""

from __future__ import annotations

import html
import math
from collections.abc import Sequence

import numpy as np

from sim.outcomes import HEADLINE, OUTCOMES

LANGUAGES = ("nl", "en")
DOCS = {o.name: o.doc for o in OUTCOMES}

WORDS = {
    "title": ("Buurtsim: WhatsApp-buurtpreventie", "Buurtsim: WhatsApp neighbourhood watch"),
    "day": ("dag", "day"),
    "case": ("wijk", "case"),
    "members": ("leden", "members"),
    "households": ("huishoudens", "households"),
    "colour_fear": ("kleur: angst", "colour: fear"),
    "colour_alertness": ("kleur: alertheid", "colour: alertness"),
    "fear": ("angst", "fear"),
    "alertness": ("alertheid", "alertness"),
    "follow-up": ("opvolging", "follow-up"),
    "stigmatisation": ("stigmatisering", "stigmatisation"),
    "member": ("lid van de groep", "group member"),
    "nonmember": ("geen lid", "not a member"),
    "admin": ("beheerder", "admin"),
    "officer_in": ("wijkagent in de groep", "community officer in the group"),
    "officer_out": ("wijkagent buiten de groep", "community officer outside the group"),
    "offence": ("misdrijf vandaag", "offence today"),
    "innocent": ("onschuldige situatie vandaag", "innocent situation today"),
    "signalled": ("gemeld (vol = gemeld, gestreept = niet)", "signalled (solid = signalled, dashed = not)"),
    "confronted": ("bewoner sprak persoon aan", "resident confronted the person"),
    "crowd": ("oploop", "crowd"),
    "low_high": ("laag → hoog", "low → high"),
    "chat": ("Groepsapp", "Group chat"),
    "group": ("groep", "group"),
    "groups": ("groepen", "groups"),
    "no_messages": ("Nog geen berichten.", "No messages yet."),
    "removed": ("verwijderd door beheerder", "removed by the admin"),
    "stigmatising": ("stigmatiserend: noemt uiterlijk, niet gedrag", "stigmatising: names appearance, not behaviour"),
    "last_30": ("Laatste 30 dagen, per dag bijgewerkt", "Last 30 days, updated daily"),
    "so_far": ("Hele run tot nu toe", "Whole run so far"),
    "outcome": ("uitkomst", "outcome"),
    "invalid": ("Ongeldige invoer, het model is niet gestart", "Invalid input, the model did not start"),
    "press_reset": ("Pas de invoer aan en druk op RESET.", "Correct the input and press RESET."),
    "next_incident": ("Volgend incident", "Next incident"),
    "one_year": ("Eén jaar", "One year"),
    "summary": ("Samenvatting in woorden", "Summary in words"),
    "scorecard": ("Scorecard tot nu toe: B vergeleken met A", "Scorecard so far: B compared with A"),
    "same_seed": ("Zelfde seed: in beide buurten gebeuren dezelfde situaties.",
                  "Same seed: the same situations happen in both neighbourhoods."),
}

SCENARIO_NAMES = {
    "baseline": ("Uitgangssituatie (wijkagent buiten de groep)", "Baseline (officer outside the group)"),
    "officer_in_group": ("Wijkagent in de groep", "Officer in the group"),
    "saar_enforced": ("Beheerder handhaaft SAAR", "Admin enforces SAAR"),
    "report_form": ("Meldformulier tegen profileren", "Report form against profiling"),
    "no_admin": ("Geen beheerder", "No admin"),
    "police_feedback": ("Terugkoppeling na elke melding", "Police feedback after every report"),
    "crime_only": ("Alleen meldingen, geen gekletst", "Crime only, no chatter"),
    "chatter_tolerated": ("Kletsen toegestaan", "Chatter tolerated"),
    "coverage_low": ("Lage dekking (10%)", "Low coverage (10%)"),
    "coverage_high": ("Hoge dekking (50%)", "High coverage (50%)"),
    "no_group": ("Geen buurtapp (geen groep, geen beheerder)", "No group at all (no members, no admin)"),
}

# The parameters the sliders may offer (the sensitivity ranking's first few), in plain words.
PARAMETER_WORDS = {
    "ambiguous_suspicion_prob": ("Argwaan", "Suspicion"),
    "observe_prob": ("Opmerken", "Noticing"),
    "ambiguous_rate": ("Twijfelgevallen", "Ambiguous cases"),
    "alertness_memory_days": ("Alert (dagen)", "Alert (days)"),
    "fear_baseline": ("Angst", "Fear"),
    "fear_suspicion_gain": ("Angst → argwaan", "Fear → suspicion"),
    "sight_range": ("Zicht (huizen)", "Sight (houses)"),
    "alertness_baseline": ("Alertheid", "Alertness"),
    "home_day_share": ("Thuis", "At home"),
    "call_112_prob": ("Belt 112", "Calls 112"),
    "post_prob": ("Post in app", "Posts in app"),
}

ROLE_NAMES = {"resident": ("Bewoner", "Resident"), "admin": ("Beheerder", "Admin"),
              "officer": ("Wijkagent", "Community officer"), "police": ("Politie", "Police")}

# Message texts by kind; a message's id picks a variant, so the chat does not repeat itself.
MESSAGE_TEXTS = {
    "signal": (["Verdachte persoon bij nr. {node}, kijkt bij de ramen naar binnen.",
                "Iemand loopt al een tijdje rond bij nr. {node} en probeert deurklinken.",
                "Verdachte situatie bij nr. {node}, let even op."],
               ["Suspicious person at no. {node}, looking in through the windows.",
                "Someone has been hanging around no. {node} trying door handles.",
                "Suspicious situation at no. {node}, keep an eye out."]),
    "stigmatising": (["Verdacht type bij nr. {node}, ziet er niet uit alsof hij hier woont.",
                      "Persoon bij nr. {node} die hier echt niet hoort, kijk maar naar hem."],
                     ["Suspicious type at no. {node}, doesn't look like he lives here.",
                      "Person at no. {node} who really doesn't belong here, just look at him."]),
    "saar": (["112 gebeld! Verdachte persoon bij nr. {node}, politie is onderweg.",
              "SAAR: 112 gebeld over nr. {node}. Blijf binnen, niet zelf op af."],
             ["Called 112! Suspicious person at no. {node}, police on their way.",
              "SAAR: 112 called about no. {node}. Stay inside, don't go yourself."]),
    "sighting": (["Ik zie hem ook, bij nr. {node}.", "Klopt, loopt nu richting het eind van de straat."],
                 ["I can see him too, at no. {node}.", "Right, now walking towards the end of the street."]),
    "reply": (["Top, dank!", "Dank voor het melden!", "Ik let ook op."],
              ["Great, thanks!", "Thanks for reporting!", "Keeping an eye out too."]),
    "offtopic": (["Wie heeft mijn grijze kat gezien?", "Heeft iemand een ladder te leen?",
                  "Wat een herrie gisteravond, weet iemand wat dat was?"],
                 ["Has anyone seen my grey cat?", "Can anyone lend me a ladder?",
                  "What a racket last night, does anyone know what it was?"]),
    "admin_question": (["Heb je 112 gebeld? Eerst bellen, dan appen (SAAR)."],
                       ["Did you call 112? Call first, then app (SAAR)."]),
    "admin_warning": (["Waarschuwing: deze groep is alleen voor meldingen. Volgende keer volgt verwijdering."],
                      ["Warning: this group is for alarms only. Next time you will be removed."]),
    "admin_removal": (["Een deelnemer is uit de groep verwijderd volgens de huisregels."],
                      ["A member was removed from the group under the house rules."]),
    "police_feedback": (["Terugkoppeling politie: de melding bij nr. {node} is bekeken. Dank voor jullie alertheid."],
                        ["Police feedback: the report at no. {node} was followed up. Thanks for being alert."]),
    "closing": (["Afmelding: de situatie bij nr. {node} is voorbij. Dank allemaal."],
                ["All clear: the situation at no. {node} is over. Thanks everyone."]),
    "relay": (["Doorgestuurd uit de buurgroep: verdachte persoon bij nr. {node}, let ook even op."],
              ["Passed on from the neighbouring group: suspicious person at no. {node}, keep an eye out too."]),
}

FIRST_NAMES = ("Anja", "Bram", "Carla", "Dennis", "Els", "Fatima", "Gert", "Hanneke", "Ilse", "Jeroen",
               "Karin", "Luuk", "Mohamed", "Nicole", "Olaf", "Petra", "Ruud", "Sanne", "Tom", "Ursula",
               "Vincent", "Wendy", "Yusuf", "Zoë", "Ahmet", "Bianca", "Cor", "Daan", "Eva", "Frank")

# Names and meanings of the headline outcomes (English meaning: the definition in sim.outcomes).
OUTCOME_WORDS = {
    "alertness_members": ("alertheid leden", "alertness, members",
                          "gemiddelde alertheid van groepsleden"),
    "alertness_nonmembers": ("alertheid niet-leden", "alertness, non-members",
                             "gemiddelde alertheid van bewoners die geen lid zijn"),
    "offences_signalled_share": ("misdrijven gemeld", "offences signalled",
                                 "aandeel echte misdrijven dat gezien en gemeld is (112 of app)"),
    "fear_members": ("angst leden", "fear, members", "gemiddelde angst (onveiligheidsgevoel) van groepsleden"),
    "fear_nonmembers": ("angst niet-leden", "fear, non-members",
                        "gemiddelde angst van bewoners die geen lid zijn"),
    "feels_unsafe_share": ("voelt zich weleens onveilig", "sometimes feels unsafe",
                           "aandeel bewoners dat zich weleens onveilig voelt in de eigen buurt"),
    "feels_often_unsafe_share": ("voelt zich vaak onveilig", "often feels unsafe",
                                 "aandeel bewoners dat zich vaak onveilig voelt in de eigen buurt"),
    "fear_residents": ("angst alle bewoners", "fear, all residents",
                       "gemiddelde angst (onveiligheidsgevoel) van alle bewoners"),
    "police_reports": ("meldingen bij politie", "reports to the police",
                       "situaties die de politie bereikten (112, beheerder of wijkagent)"),
    "reports_per_month": ("meldingen per maand", "reports per month", "meldingen bij de politie per maand"),
    "reports_from_group": ("meldingen vanuit de groep", "reports from the group",
                           "meldingen die de groep bij de politie bracht (SAAR-melding, beheerder, wijkagent)"),
    "reports_from_group_per_month": ("groepsmeldingen per maand", "group reports per month",
                                     "meldingen vanuit de groep bij de politie per maand"),
    "reports_via_112": ("via 112", "via 112", "meldingen die binnenkwamen via een 112-oproep"),
    "reports_via_admin": ("via beheerder", "via the admin",
                          "meldingen die de beheerder doorgaf aan de wijkagent"),
    "reports_via_officer": ("via wijkagent in groep", "via the officer in the group",
                            "meldingen die de wijkagent zelf in de groep las"),
    "follow_up_share": ("opgevolgd", "followed up", "aandeel meldingen dat de politie op enige manier opvolgde"),
    "follow_up_look_share": ("politie ging kijken", "police went to look",
                             "aandeel meldingen waarbij een eenheid ging kijken"),
    "follow_up_municipality_share": ("naar gemeente", "passed to municipality",
                                     "aandeel meldingen doorgezet naar de gemeente"),
    "follow_up_officer_share": ("actie wijkagent", "officer action",
                                "aandeel meldingen met actie of informatie van de wijkagent"),
    "follow_ups_per_1000": ("opgevolgd per 1.000 huishoudens", "followed up per 1,000 households",
                            "door de politie opgevolgde meldingen per 1.000 huishoudens per jaar"),
    "arrests": ("aanhoudingen", "arrests", "aanhoudingen"),
    "response_minutes": ("aanrijtijd (min)", "response time (min)",
                         "gemiddelde aanrijtijd van eenheden die gingen kijken (minuten)"),
    "signals_without_follow_up_share": ("gemeld zonder opvolging", "signalled, no follow-up",
                                        "aandeel gemelde situaties zonder enige opvolging door de politie"),
    "signals_without_follow_up_per_1000": ("zonder opvolging per 1.000 huishoudens",
                                           "no follow-up per 1,000 households",
                                           "gemelde situaties zonder opvolging per 1.000 huishoudens per jaar"),
    "innocent_signal_share": ("meldingen over onschuldigen", "signals about innocent people",
                              "aandeel gemelde situaties waarin niets strafbaars gebeurde"),
    "minority_overrepresentation": ("oververtegenwoordiging minderheid", "minority over-representation",
                                    "aandeel minderheid onder gemelde onschuldigen gedeeld door hun aandeel "
                                    "onder voorbijgangers (1 = geen oververtegenwoordiging)"),
    "stigmatising_messages_visible": ("stigmatiserende berichten zichtbaar", "stigmatising messages visible",
                                      "stigmatiserende berichten die niet verwijderd werden"),
    "wrongful_confrontations": ("onterecht aangesproken", "wrongly confronted",
                                "onschuldige personen die door bewoners werden aangesproken"),
}

HEADLINE_EXPLAINED = {
    "alertness": ("Let bewoners beter op? En worden echte misdrijven gezien en gemeld?",
                  "Do residents pay more attention? Are true offences seen and signalled?"),
    "fear": ("Voelen bewoners zich onveiliger door de groep?", "Do residents feel less safe because of the group?"),
    "follow-up": ("Komt een melding bij de politie aan, en gebeurt er dan iets mee?",
                  "Does a signal reach the police, and is anything done with it?"),
    "stigmatisation": ("Worden onschuldige mensen verdacht gemaakt, vooral uit een zichtbare minderheid?",
                       "Are innocent people made suspects, especially from a visible minority?"),
}

# The live plots: per headline, the outcomes that are shares (0..1), line style per outcome.
PLOTTED = {
    "alertness": ("alertness_members", "alertness_nonmembers"),
    "fear": ("fear_members", "fear_nonmembers"),
    "follow-up": ("follow_up_share", "signals_without_follow_up_share"),
    "stigmatisation": ("innocent_signal_share",),
}
DASHES = ("", "5 3")
ARM_COLOURS = ("#1d4ed8", "#c2410c")


def _pick(pair: Sequence[str], lang: str) -> str:
    return pair[LANGUAGES.index(lang)]


def word(key: str, lang: str) -> str:
    return _pick(WORDS[key], lang)


def scenario_name(name: str, lang: str) -> str:
    return _pick(SCENARIO_NAMES[name], lang) if name in SCENARIO_NAMES else name


def parameter_label(name: str) -> str:
    """A slider's bilingual label (the sidebar does not switch language)."""
    return " / ".join(PARAMETER_WORDS[name]) if name in PARAMETER_WORDS else name


def outcome_label(name: str, lang: str) -> str:
    return _pick(OUTCOME_WORDS[name][:2], lang) if name in OUTCOME_WORDS else name


def outcome_meaning(name: str, lang: str) -> str:
    """Dutch meaning written here; the English one is the definition's own doc."""
    if lang == "nl" and name in OUTCOME_WORDS:
        return OUTCOME_WORDS[name][2]
    return DOCS[name]


# -- the chat ----------------------------------------------------------------------------------
def pseudonym(author: int, role: str, lang: str) -> str:
    """A stable, made-up name per household, so the audience can follow who says what."""
    if author < 0 or role in ("officer", "police"):
        return _pick(ROLE_NAMES.get(role, ROLE_NAMES["officer"]), lang)
    first = FIRST_NAMES[author % len(FIRST_NAMES)]
    return f"{first} {chr(65 + (author // len(FIRST_NAMES)) % 26)}."


def message_text(msg, lang: str) -> str:
    kind = "stigmatising" if msg.stigmatising and msg.kind == "signal" else msg.kind
    if kind not in MESSAGE_TEXTS:
        return str(getattr(msg, "text", kind))
    variants = _pick(MESSAGE_TEXTS[kind], lang)
    text = variants[int(getattr(msg, "id", 0)) % len(variants)]
    return text.format(node=getattr(msg, "node", None) if getattr(msg, "node", None) is not None else "?")


def _clock(minute: float) -> str:
    m = int(minute) % (24 * 60)
    return f"{m // 60:02d}:{m % 60:02d}"


def chat_html(log: Sequence, lang: str, limit: int = 40) -> str:
    """The last ``limit`` messages as a chat: day separators, bubbles by role, marks for moderation."""
    if not log:
        return f'<div class="bs-chat"><div class="bs-empty">{word("no_messages", lang)}</div></div>'
    parts, last_day = [], None
    for msg in log[-limit:]:
        if msg.day != last_day:
            parts.append(f'<div class="bs-daychip">{word("day", lang)} {msg.day + 1}</div>')
            last_day = msg.day
        role = msg.role if msg.role in ROLE_NAMES else "resident"
        marks = ""
        if msg.stigmatising:
            marks += f'<div class="bs-mark bs-stig">⚠ {word("stigmatising", lang)}</div>'
        if msg.removed:
            marks += f'<div class="bs-mark bs-removed">✕ {word("removed", lang)}</div>'
        classes = f"bs-msg bs-{role}" + (" bs-is-removed" if msg.removed else "") + \
            (" bs-is-stig" if msg.stigmatising else "")
        who = f"{_pick(ROLE_NAMES[role], lang)} · {pseudonym(msg.author, role, lang)}"
        parts.append(f'<div class="{classes}" data-kind="{html.escape(msg.kind)}">'
                     f'<div class="bs-who">{html.escape(who)}</div>'
                     f'<div class="bs-text">{html.escape(message_text(msg, lang))}'
                     f'<span class="bs-time">{_clock(msg.minute)}</span></div>{marks}</div>')
    # column-reverse keeps the newest message in view without any JavaScript
    return f'<div class="bs-chat"><div>{"".join(parts)}</div></div>'


CHAT_CSS = """
.bs-chat{display:flex;flex-direction:column-reverse;overflow-y:auto;height:100%;background:#efeae2;
  padding:6px;border-radius:6px;font-size:14px}
.bs-daychip{margin:6px auto;width:fit-content;background:#e1f3fb;border-radius:6px;padding:1px 8px;
  font-size:12px;color:#333}
.bs-msg{background:#fff;border-radius:8px;padding:3px 8px 3px;line-height:1.3;margin:3px 30px 3px 0;max-width:92%;
  box-shadow:0 1px 1px rgba(0,0,0,.15)}
.bs-admin{background:#d9fdd3;margin-left:30px;margin-right:0}
.bs-officer,.bs-police{background:#dbeafe;border-left:4px solid #1d4ed8}
.bs-who{font-size:12px;font-weight:600;color:#0f766e}
.bs-admin .bs-who{color:#15803d}.bs-officer .bs-who,.bs-police .bs-who{color:#1d4ed8}
.bs-is-removed .bs-text{text-decoration:line-through;color:#777}
.bs-is-stig{border:2px solid #dc2626}
.bs-mark{font-size:11px;font-weight:600}.bs-stig{color:#b91c1c}.bs-removed{color:#555}
.bs-time{font-size:10px;color:#667;float:right;margin:4px 0 0 10px}
.bs-empty{color:#555;padding:8px}
.bs-map .m{stroke:#111;stroke-width:.12}.bs-map .n{stroke:#94a3b8;stroke-width:.05}
.bs-legend{font-size:12px;display:flex;flex-wrap:wrap;gap:4px 14px;align-items:center}
.bs-legend svg{vertical-align:middle}
.bs-score{width:auto;border-collapse:collapse}
.bs-score td,.bs-score th{padding:2px 8px;font-size:13px;text-align:right}
.bs-score td:first-child,.bs-score th:first-child{text-align:left}
.bs-score .bs-doc{font-size:11px;color:#555;text-align:left}
.bs-score .bs-head td{font-weight:700;text-align:left;padding-top:8px}
"""


# -- the neighbourhood map -----------------------------------------------------------------------
def _scale(stops: Sequence[str]) -> list[str]:
    rgb = np.array([[int(s[i:i + 2], 16) for i in (1, 3, 5)] for s in stops], dtype=float)
    at = np.linspace(0, 1, len(stops))
    out = []
    for v in np.linspace(0, 1, 101):
        c = [np.interp(v, at, rgb[:, k]) for k in range(3)]
        out.append("#%02x%02x%02x" % tuple(int(round(x)) for x in c))
    return out


COLOUR_SCALES = {"fear": _scale(("#fff5f0", "#fcbba1", "#fb6a4a", "#cb181d", "#67000d")),
                 "alertness": _scale(("#f7fbff", "#c6dbef", "#6baed6", "#2171b5", "#08306b"))}


def frame(positions) -> np.ndarray:
    """(n, 2) drawing coordinates from ``model.positions`` (dict or array), landscape, from 0."""
    xy = np.array([positions[i] for i in range(len(positions))], dtype=float)
    xy -= xy.min(axis=0)
    if np.ptp(xy[:, 1]) > np.ptp(xy[:, 0]):  # a projector is wider than tall
        xy = xy[:, ::-1].copy()
    return xy


def edge_path(xy: np.ndarray, graph, kind: str) -> str:
    """One SVG path with every edge of ``kind`` (sight edges draw the streets)."""
    segs = [f"M{xy[a, 0]:.1f} {xy[a, 1]:.1f}L{xy[b, 0]:.1f} {xy[b, 1]:.1f}"
            for a, b, k in graph.edges(data="kind") if k == kind]
    return "".join(segs)


def _svg_open(xy: np.ndarray, cls: str) -> str:
    w, h = xy[:, 0].max() + 4, xy[:, 1].max() + 2
    return (f'<svg class="{cls}" viewBox="-1 -1 {w + 1:.1f} {h + 1:.1f}" preserveAspectRatio="xMidYMid meet" '
            f'style="width:100%;height:100%;position:absolute;inset:0" xmlns="http://www.w3.org/2000/svg">')


def map_background(xy: np.ndarray, streets: str, ties: str) -> str:
    """The layer that rarely changes (streets, social ties), drawn apart so a step does not resend it."""
    return (f'{_svg_open(xy, "bs-map-bg")}<path d="{streets}" stroke="#cbd5e1" stroke-width="0.08" fill="none"/>'
            f'<path d="{ties}" stroke="#7c3aed" stroke-opacity="0.08" stroke-width="0.05" fill="none"/></svg>')


GROUP_TINTS = ("#e0f2fe", "#fef3c7", "#dcfce7", "#fce7f3", "#ede9fe", "#ffedd5", "#ccfbf1", "#f1f5f9")


def map_svg(xy: np.ndarray, member, value, admins: Sequence[int], colour_by: str, today: Sequence,
            officer_in_group: bool, groups: Sequence[int] | None = None, selected: int = 0) -> str:
    """Households coloured by fear or alertness, today's situations, the community officer.

    ``groups``: the group over each household's street: each group's streets are tinted and
    numbered, the ``selected`` one (whose chat is shown) outlined."""
    scale = COLOUR_SCALES[colour_by]
    idx = np.clip(np.nan_to_num(np.asarray(value, dtype=float)) * 100, 0, 100).astype(int)
    out = [_svg_open(xy, "bs-map")]
    if groups is not None:
        groups = np.asarray(groups)
        out.append('<g class="bs-groups">')
        for g in np.unique(groups).tolist():
            tint = GROUP_TINTS[g % len(GROUP_TINTS)]
            edge = ' stroke="#334155" stroke-width=".08"' if g == selected else ""
            out.extend(f'<rect class="bs-group-{g}" x="{x - .5:.1f}" y="{y - .5:.1f}" width="1" height="1" '
                       f'fill="{tint}"{edge}/>' for x, y in xy[groups == g])
            cx, cy = xy[groups == g].mean(axis=0)
            out.append(f'<text class="bs-group-label" x="{cx:.1f}" y="{cy:.1f}" font-size="1.6" '
                       f'text-anchor="middle" fill="#334155" opacity=".6" font-weight="700">{g + 1}</text>')
        out.append("</g>")
    out.append('<g class="bs-households">')
    admin_set = set(int(a) for a in admins)
    for i, ((x, y), m, c) in enumerate(zip(xy, member, idx)):
        if i in admin_set:
            continue
        if m:
            out.append(f'<circle class="m" cx="{x:.1f}" cy="{y:.1f}" r=".42" fill="{scale[c]}"/>')
        else:
            out.append(f'<circle class="n" cx="{x:.1f}" cy="{y:.1f}" r=".26" fill="{scale[c]}"/>')
    for a in admin_set:
        x, y = xy[a]
        out.append(f'<rect class="bs-admin-node" x="{x - .5:.2f}" y="{y - .5:.2f}" width="1" height="1" '
                   f'transform="rotate(45 {x:.1f} {y:.1f})" fill="{scale[idx[a]]}" stroke="#111" '
                   f'stroke-width=".25"/>')
    out.append("</g>")
    for s in today:
        x, y = xy[s.node]
        colour = "#b91c1c" if s.offence else "#d97706"
        dash = "" if s.signalled else ' stroke-dasharray=".4 .3"'
        out.append(f'<circle class="bs-situation" cx="{x:.1f}" cy="{y:.1f}" r="1.1" fill="none" '
                   f'stroke="{colour}" stroke-width=".25"{dash}/>')
        if s.crowd:
            out.append(f'<circle cx="{x:.1f}" cy="{y:.1f}" r="1.7" fill="none" stroke="{colour}" '
                       f'stroke-width=".15"/>')
        if s.confronted:
            out.append(f'<path class="bs-confronted" d="M{x - .8:.1f} {y - .8:.1f}l1.6 1.6m0 -1.6l-1.6 1.6" '
                       f'stroke="#7e22ce" stroke-width=".35"/>')
    out.append(_officer_badge(xy[:, 0].max() + 1.8, 0.3, officer_in_group))
    out.append("</svg>")
    return "".join(out)


def _officer_badge(x: float, y: float, in_group: bool) -> str:
    fill, opacity = ("#1d4ed8", 1) if in_group else ("#94a3b8", .8)
    return (f'<g class="bs-officer-node" opacity="{opacity}"><path d="M{x:.1f} {y:.1f}h1.8v1.2l-.9 .9l-.9 -.9z" '
            f'fill="{fill}" stroke="#0f172a" stroke-width=".1"/><text x="{x + .9:.1f}" y="{y + 1.1:.1f}" '
            f'font-size="1" text-anchor="middle" fill="#fff" font-weight="700">W</text></g>')


def _swatch(shape: str) -> str:
    return f'<svg width="18" height="18" viewBox="-1 -1 2 2">{shape}</svg>'


def map_legend(colour_by: str, officer_in_group: bool, lang: str) -> str:
    scale = COLOUR_SCALES[colour_by]
    ramp = "".join(f'<span style="display:inline-block;width:8px;height:12px;background:{scale[v]}"></span>'
                   for v in range(0, 101, 10))
    items = [
        (_swatch('<circle r=".6" fill="#fcbba1" stroke="#111" stroke-width=".18"/>'), word("member", lang)),
        (_swatch('<circle r=".38" fill="#fcbba1" stroke="#94a3b8" stroke-width=".08"/>'), word("nonmember", lang)),
        (_swatch('<rect x="-.5" y="-.5" width="1" height="1" transform="rotate(45)" fill="#fcbba1" '
                 'stroke="#111" stroke-width=".25"/>'), word("admin", lang)),
        (_swatch('<path d="M-.9 -.9h1.8v1.1l-.9 .8l-.9 -.8z" fill="%s"/>' %
                 ("#1d4ed8" if officer_in_group else "#94a3b8")),
         word("officer_in" if officer_in_group else "officer_out", lang)),
        (_swatch('<circle r=".8" fill="none" stroke="#b91c1c" stroke-width=".25"/>'), word("offence", lang)),
        (_swatch('<circle r=".8" fill="none" stroke="#d97706" stroke-width=".25"/>'), word("innocent", lang)),
        (_swatch('<circle r=".8" fill="none" stroke="#555" stroke-width=".2" stroke-dasharray=".4 .3"/>'),
         word("signalled", lang)),
        (_swatch('<path d="M-.7 -.7l1.4 1.4m0 -1.4l-1.4 1.4" stroke="#7e22ce" stroke-width=".3"/>'),
         word("confronted", lang)),
        (_swatch('<circle r=".5" fill="none" stroke="#555" stroke-width=".15"/><circle r=".9" fill="none" '
                 'stroke="#555" stroke-width=".12"/>'), word("crowd", lang)),
    ]
    cells = "".join(f"<span>{s} {html.escape(t)}</span>" for s, t in items)
    return (f'<div class="bs-legend"><span>{word(colour_by, lang)}: {word("low_high", lang)} {ramp}</span>'
            f"{cells}</div>")


# -- plots and the score table --------------------------------------------------------------------
def plot_svg(headline: str, arms: Sequence[tuple[str, Sequence[dict]]], lang: str,
             width: int = 250, height: int = 150) -> str:
    """Outcomes of one headline over days (0..1), one colour per arrangement, one dash per outcome."""
    left, right, top, bottom = 26, 6, 20, 16
    pw, ph = width - left - right, height - top - bottom
    days = max([len(series) for _, series in arms] + [30])
    out = [f'<svg class="bs-plot" data-headline="{headline}" viewBox="0 0 {width} {height}" '
           f'style="width:100%" xmlns="http://www.w3.org/2000/svg">',
           f'<text x="{left}" y="13" font-size="13" font-weight="700">{html.escape(word(headline, lang))}</text>']
    for v in (0, .25, .5, .75, 1):
        y = top + ph * (1 - v)
        out.append(f'<line x1="{left}" x2="{left + pw}" y1="{y:.1f}" y2="{y:.1f}" stroke="#e5e7eb"/>'
                   f'<text x="{left - 3}" y="{y + 3:.1f}" font-size="9" text-anchor="end">{v:g}</text>')
    out.append(f'<text x="{left + pw}" y="{height - 4}" font-size="9" text-anchor="end">'
               f'{word("day", lang)} {days}</text>')
    for a, (_, series) in enumerate(arms):
        for o, name in enumerate(PLOTTED[headline]):
            values = [row[name] for row in series]
            for run in _runs(values):
                pts = " ".join(f"{left + pw * (i + 1) / days:.1f},{top + ph * (1 - min(max(v, 0), 1)):.1f}"
                               for i, v in run)
                out.append(f'<polyline points="{pts}" fill="none" stroke="{ARM_COLOURS[a]}" stroke-width="2" '
                           f'stroke-dasharray="{DASHES[o]}"/>')
    out.append("</svg>")
    keys = " · ".join(f'<svg width="26" height="8"><line x1="0" x2="26" y1="4" y2="4" stroke="#333" '
                      f'stroke-width="2" stroke-dasharray="{DASHES[o]}"/></svg> {html.escape(outcome_label(n, lang))}'
                      for o, n in enumerate(PLOTTED[headline]))
    return "".join(out) + f'<div class="bs-legend">{keys}</div>'


def _runs(values: Sequence[float]) -> list[list[tuple[int, float]]]:
    """Stretches without missing values (a share is undefined while its denominator is 0)."""
    runs, cur = [], []
    for i, v in enumerate(values):
        if v is None or math.isnan(v):
            if cur:
                runs.append(cur)
            cur = []
        else:
            cur.append((i, v))
    return runs + [cur] if cur else runs


def format_value(v: float) -> str:
    if v is None or math.isnan(v):
        return "–"
    return f"{v:.0f}" if float(v).is_integer() and abs(v) >= 1 else f"{v:.2f}"


def score_table(names: Sequence[str], summaries: Sequence[dict], lang: str) -> str:
    """All headline outcomes for each arrangement over the whole run, with what each means."""
    head = "".join(f'<th style="color:{ARM_COLOURS[a]}">{html.escape(n)}</th>' for a, n in enumerate(names))
    rows = [f'<table class="bs-score"><tr><th>{word("outcome", lang)}</th>{head}</tr>']
    for headline, outcomes in HEADLINE.items():
        rows.append(f'<tr class="bs-head"><td colspan="{len(names) + 1}">{html.escape(word(headline, lang))}: '
                    f'<span class="bs-doc">{html.escape(_pick(HEADLINE_EXPLAINED[headline], lang))}</span></td></tr>')
        for o in outcomes:
            cells = "".join(f"<td>{format_value(s.get(o, math.nan))}</td>" for s in summaries)
            rows.append(f'<tr data-outcome="{o}"><td>{html.escape(outcome_label(o, lang))}'
                        f'<div class="bs-doc">{html.escape(outcome_meaning(o, lang))}</div></td>{cells}</tr>')
    return "".join(rows) + "</table>"
