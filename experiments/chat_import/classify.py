"""Classify each message of an export into one of the model's kinds (``sim.chat.MESSAGE_KINDS``).

Transparent rules, Dutch and English, applied in this order; the first that fires wins. The text of a
message is read here and nowhere after: what leaves this module is a text-free ``GroupLog``.

1. **reply**: only emoji and punctuation, or only acknowledgement words (``ACK_WORDS``: "dank je",
   "thnx", "top", "ok", "goed opgelet") padded with filler (``FILLER``: "voor het melden", "for
   reporting"); or a thank-you with no word of any later rule;
2. **admin_question**: a question (``?``) about calling 112 or the police ("al 112 gebeld?");
3. **closing** (explicit): the incident is declared over ("afmelding", "einde melding", "all clear",
   "false alarm", "report closed");
4. **saar**: 112 or the police was called ("112 gebeld", "politie is onderweg", "rang the police");
5. **police_feedback**: the police or the wijkagent report back ("terugkoppeling", "van de politie
   gehoord", "the police checked", "aangehouden", "extra patrols");
6. **closing** (harmless cause): it was someone harmless ("het was de buurman", "it was just the window
   cleaner", "bleek de bezorger");
7. **admin_warning**: the house rules ("alleen voor meldingen", "herinnering", "niet toegestaan", "stick
   to the rules", "you will be removed");
8. **sighting** (confirmation): "ik zie ze ook", "klopt", "zelfde man", "was here too", "same car";
9. **signal** (suspicion words): "verdacht", "let op", "pas op", "inbraak", "kenteken", "capuchon",
   "door de ramen", "zonder licht", "deur aan deur", "oplichters", "suspicious", "watch out", "torch";
10. **sighting** (where they are now): "nu richting", "now at", "went past", "de hoek om";
11. **offtopic** (chatter): a question to the group ("weet iemand ...?", "anyone ...?") or an everyday
    topic ("te koop", "kat", "pakket", "gemeente", "for sale", "bins", "birthday");
12. **signal** (a description): a person or vehicle ("man", "jongens", "iemand", "auto", "scooter",
    "someone", "car") doing something ("loopt", "rijden", "staat", "kijkt", "walking", "parked");
13. otherwise **offtopic**.

Context (``group_log``): in the ``FOLLOW_UP`` minutes after another member's signal, SAAR or sighting, a
message that only rule 12 or 13 matched adds to that incident: **sighting**.

The full word lists are ``RULES``, ``ACK_WORDS`` and ``FILLER`` below. They were written on ``TEXTS`` and
revised on three further sets of phrasings (tests/chat_exports.py); their accuracy is measured on a set by
another author never used to revise them (tests/test_chat_import.py, docs/chat_import.md).

**admin_removal** is not a message but the system line "X removed Y" / "X heeft Y verwijderd".
The admins are the members who add or remove members (system lines), and anyone who posts a house-rule
warning. Admin kinds (2, 3, 6, 7) posted by a member who is not an admin are still admin kinds: a member
who reminds the group of its rules acts as moderator, and the export does not say who is admin otherwise.
"""

from __future__ import annotations

import re
import unicodedata
from collections import Counter
from dataclasses import dataclass

from experiments.chat_import.parse import Export

_PEOPLE = (r"man|mannen|vrouw|vrouwen|jongen|jongens|meisje|meiden|persoon|personen|iemand|figuur|figuren|"
           r"types?|groepje|men|woman|women|lads?|guys?|person|people|someone|somebody|boys?|girls?|youths?")
_VEHICLES = r"auto|auto's|autos|wagen|busje|bestelbus\w*|scooter|brommer|motor|fiets|cars?|van|motorbike|moped|bike"
_HARMLESS = (r"buurman|buurvrouw|buren|bewoner|eigenaar|bezorger|pakketbezorger|postbode|visite|bezoek|"
             r"glazenwasser|schoonmaker|monteur|loodgieter|schilder|familie|zoon|dochter|schoonzoon|vriend|"
             r"vriendin|oppas|klusjesman|neighbou?rs?|neighbou?rs' \S+|resident|owner|delivery( driver)?|"
             r"courier|postman|visitors?|window cleaner|cleaner|plumber|painter|family|son|daughter|"
             r"son-in-law|friend|babysitter|handyman")

DESCRIPTION = "a person or vehicle doing something"   # rule 12, which the context rule may overrule

RULES: tuple[tuple[str, str, re.Pattern], ...] = tuple((kind, name, re.compile(rx, re.I)) for kind, name, rx in (
    ("admin_question", "a question about 112 or the police",
     r"(112|999|politie|police|alarmnummer|gemeld|reported)[^\n]*\?|\?[^\n]*(112|999|politie|police)"),
    ("closing", "the incident declared over",
     r"afmeld\w*|afgemeld|einde (van de )?melding|melding (is )?(afgehandeld|gesloten|afgesloten|ingetrokken)|"
     r"(situatie|incident) is (voorbij|afgehandeld|opgelost)|\bafgesloten|\bopgelost|loos alarm|vals alarm|"
     r"alles (is )?(weer )?(veilig|rustig|in orde)|niets aan de hand|all clear|false alarm|"
     r"(situation|incident) (is )?(over|closed|resolved|sorted)|report closed|closed now|\bsolved\b|"
     r"sorted now|all (safe|quiet|fine) (again|now)|nothing to worry"),
    ("saar", "112 or the police called",
     r"\bsaar\b|(112|999|politie|police|alarmnummer)[^.?!\n]{0,40}(gebeld|called|phoned|rang|onderweg|"
     r"on (its|the|their) way|coming|komt eraan|komen eraan|ingeschakeld|alerted|informed|ingelicht|"
     r"gewaarschuwd|notified)|(gebeld|called|phoned|rang|rung|dialled|dialed|bel nu|calling)[^.?!\n]{0,20}"
     r"(112|999|politie|police)|melding (gedaan )?bij (112|de politie)|report(ed)? (it |this )?to "
     r"(112|999|the police)"),
    ("police_feedback", "the police report back",
     r"terugkoppeling|wijkagent|community officer|neighbourhood officer|(bericht|update|nieuws|info) (van|from) "
     r"(de |the )?(politie|police|wijkagent)|update (wijkagent|politie|police)|police update|(van|from) (de |the )?"
     r"(politie|police) (gehoord|vernomen|begrepen)|heard from the police|namens de (politie|wijkagent)|"
     r"on behalf of the (police|community officer)|(politie|police)[^.?!\n]{0,30}(laat weten|meldt|reports?|"
     r"says?|heeft|has|checked|gecontroleerd|onderzocht|investigated|aangehouden|arrested|gesproken|spoke|"
     r"aangesproken|langs geweest|came by|ter plaatse|went to look)|aangehouden|\barrest(ed)?\b|aanhouding|"
     r"in beslag|seized|extra (surveillance|patrouilles?|patrols?)|gesurveilleerd|collega's|colleagues"),
    ("closing", "a harmless cause",
     rf"(het|dat|it|that) was (niks|niets|nothing|loos|vals)|((het|dat) was|bleek|it was|that was|turned out to be)"
     rf" (gewoon |maar |just |only )?((de|het|een|onze|mijn|zijn|the|a|our|my|his|her) )?(nieuwe |new )?"
     rf"({_HARMLESS})\b"),
    ("admin_warning", "the house rules",
     r"waarschuwing|\bwarning|herinnering|reminder|huisregels|groepsregels|appregels|regels van (de|deze) "
     r"(groep|app)|(house|group|app) rules|(de|the) regels|(the) rules|alleen (voor |bedoeld voor )?"
     r"(meldingen|alarm|verdachte)|only for (alerts|reports|suspicious|emergencies)|(for|voor) (reports|meldingen|"
     r"alerts|verdachte situaties) only|(groep|group|app|chat) is (alleen |only |bedoeld )?(voor|for) "
     r"(meldingen|reports|alerts|verdachte|suspicious)|geen (reacties|off[- ]?topic|kletsen|gezellig\w*|chat|"
     r"foto)|no (chatter|replies|off[- ]?topic|chatting|photos)|\bprive\b|privé|privately|niet toegestaan|"
     r"not allowed|(word|wordt|worden) (je )?(verwijderd|uit de)|(you will|you'll) be removed|verwijder ik je|"
     r"remove you|take you out|haal ik je|uit de (groep|app) (gezet|gehaald)|out of the (group|app)|"
     r"final warning|laatste keer|last time:|nogmaals:|again:|stick to|houd je aan|hou je aan|leidt af|distracts"),
    ("sighting", "a confirmation",
     r"\b(zie|zag|see|saw) (ze|hem|haar|het|die|dat|them|him|her|it)\b[^.?!\n]{0,20}\b(ook|too|as well|also)\b|"
     r"\b(ik zie|i see|i can see|can see) (ze|hem|haar|them|him|her)\b|\bklopt\b|bevestig|confirm|\bzelfde\b|"
     r"\bsame (man|guy|woman|car|van|scooter|person|lads?|men|jacket|coat|people|one)|"
     r"\b(ook|also)( net| al)? (gezien|zien|gespot|seen|saw)|\b(gezien|seen|saw)\b[^.?!\n]{0,20}\b(ook|too|as well)\b|"
     r"\b(stond|stonden|liep|liepen|reed|reden|was|waren|zat|zaten|hing|hingen|parked|were)\b[^.?!\n]{0,40}"
     r"\b(ook|too|as well)\b|\book (al )?(hier|bij ons|langs)|vorige week ook|last week too"),
    ("signal", "suspicion words",
     r"verdacht|suspicious|let op|opgelet|opletten|oppassen|pas op|opgepast|careful|beware|watch out|heads up|"
     r"look out|inbre\w*|inbraak|ingebroken|break[- ]?in|breaking in|burglar\w*|poging|attempt\w*|kenteken|"
     r"(licence|license|number) ?plate|\bplate\b|zaklamp|zaklantaarn|torch|flashlight|schijn\w*|shining|"
     r"capuchon|hood(ie|ed)?\b|bivakmuts|balaclava|rondjes|circl\w*|heen en weer|up and down|gluren|loer\w*|"
     r"peering|peeking|prowl\w*|loitering|casing|door de ramen|into (the )?windows|naar binnen|looking into|"
     r"om zich heen|looking around|achterom|achterdeur\w*|back doors?|back gardens?|(de|in de) tuinen|"
     r"deurklink\w*|\bklink|door handles?|handles|aan het voelen|trying (the |back |car )?doors|schuur|shed|"
     r"schutting|over (het|de) hek|over the fence|klimt|klimmen|climb\w*|breekijzer|koevoet|crowbar|stapvoets|"
     r"langzaam|slowly|crawling|zonder (licht|lichten|kenteken|logo|pasje|legitimatie)|without (lights|plates|"
     r"a logo|logo|id|any id)|no logo|aanbellen|bellen aan|belt aan|overal aan|ringing (door)?bells|doorbells|"
     r"deur aan deur|langs de deuren|door to door|oplicht\w*|scam\w*|babbeltruc|fotografe\w*|photograph\w*|"
     r"niet pluis|doesn't feel right|not right|vreemde|onbekende|strange|unknown (man|woman|car|person|people|"
     r"men|van)|draaiende motor|engine running|in (onze|mijn|hun) tuin|in (our|my|their) (back )?garden"),
    ("sighting", "where they are now",
     r"\b(nu|now|net|just)\b[^.?!\n]{0,30}\b(richting|towards|heading|bij|at|voor|langs|past|de hoek|the corner|"
     r"gone|went|ingelopen|ingereden)\b|\brichting\b|\btowards\b|heading (to|down|for|towards|into)|"
     r"(voorbij|langs) (gereden|gelopen|gekomen)|\b(went|gone|drove|walked|ran) (past|into|towards|down|off)\b|"
     r"de hoek om|turned the corner|ingelopen|ingereden|weggereden|weggelopen|drove off|ran off"),
    ("offtopic", "chatter: a question to the group or an everyday topic",
     r"\b(iemand|anyone|anybody|someone|wie|who|jullie|yours|weet|kent|know)\b[^\n]*\?|\?[^\n]*\b(iemand|"
     r"anyone|jullie|yours)\b|te koop|for sale|gevonden|\bfound\b|verloren|kwijt|\blost\b|vermist|missing|"
     r"\b(kat|poes|cat|hond|dog)\b|feest|party|barbecue|bbq|verjaardag|birthday|gefeliciteerd|congratulations|"
     r"\bhappy\b|fijne (feestdagen|dag|weekend)|merry|kerst|christmas|oud papier|container|kliko|\bbins?\b|"
     r"afval|grofvuil|rubbish|pakket\w*|parcel|\bmarkt|market|gemeente|council|stroomstoring|power|onweer|"
     r"storm|\bweer\b|weather|lenen|te leen|borrow|\blend\b|oppas|babysitter|loodgieter|plumber|hardlopen|"
     r"\brun\b|snoeien|pruning|sleutelbos|\bkeys\b|ladder|aanhanger|trailer"),
    ("signal", DESCRIPTION,
     rf"\b({_PEOPLE}|{_VEHICLES})\b.*\b(loopt|lopen|liep|rijdt|rijden|reed|staat|staan|stond|kijkt|kijken|keek|"
     rf"zit|zitten|probeert|proberen|belt|bellen|hangt|hangen|springen|sprong|rommelt|rommelen|rent|rennen|"
     rf"walking|walked|driving|drove|riding|standing|sitting|looking|trying|ringing|hanging|parked|jump\w*|"
     rf"running|fiddling|spotted|gespot)\b|\b(loopt|lopen|rijdt|rijden|staat|staan|walking|driving|riding|"
     rf"standing)\b.*\b({_PEOPLE}|{_VEHICLES})\b"),
))
@dataclass(frozen=True)
class Post:
    """A message without its text: when, who (pseudonym) and what kind."""

    time: object            # datetime
    author: str
    kind: str               # one of sim.chat.MESSAGE_KINDS


@dataclass(frozen=True)
class Change:
    """A change of membership read from a system line."""

    time: object
    member: str
    change: str             # joined | left | removed


@dataclass(frozen=True)
class GroupLog:
    """Everything the statistics need, free of text: posts, membership changes, the window."""

    start: object           # datetime of the first line
    end: object             # datetime of the last line
    posts: tuple[Post, ...]
    changes: tuple[Change, ...]
    admins: frozenset[str]
    members_end: int        # members at the end (given, or everyone the export shows still in)
    skipped: Counter        # system lines and media, by kind (not messages)


ACK_WORDS = frozenset("""dank danku dankje dankjewel dankjulliewel bedankt thanks thank thanx thx thnx tnx ty cheers
    merci top toppie topper super prima mooi fijn goed ok oké oke okay okey great nice good brilliant lovely
    well done spot noted gezien held helden bravo respect perfect zo opgelet""".split())
FILLER = frozenset("""je jij jullie u wel allemaal iedereen voor het de dat heel erg zeer ja hoor oplet opletten
    melden meldt melding nogmaals weer you your youre for the that it all everyone very so much a lot reporting
    report watching yes again alert""".split())
THANKS = re.compile(r"\b(dank\w*|bedankt|thank\w*|thanx|thx|thnx|cheers|merci)\b", re.I)
FOLLOW_UP = 60   # minutes: a message only rule 12 or 13 matched, this soon after another member's signal, adds to it


def _words(text: str) -> list[str]:
    kept = "".join(ch for ch in text.replace("’", "'") if unicodedata.category(ch)[0] in "LN" or ch.isspace()
                   or ch in "'-")
    return re.sub(r"[^\w\s]", " ", kept.replace("'", "")).lower().split()


def is_reply(text: str) -> bool:
    """Rule 1: only emoji/punctuation; only acknowledgement words (with filler); or a thank-you that no
    later rule's words touch."""
    words = _words(text)
    if not words:
        return True
    if any(w in ACK_WORDS for w in words) and all(w in ACK_WORDS or w in FILLER for w in words):
        return True
    return bool(THANKS.search(text)) and len(words) <= 12 and not any(rx.search(text) for _, _, rx in RULES)


def match(text: str) -> tuple[str, str]:
    """The kind of one message and the name of the rule that gave it (rules 1-13 of the module docstring)."""
    if is_reply(text):
        return "reply", "acknowledgement"
    for kind, name, rx in RULES:
        if rx.search(text):
            return kind, name
    return "offtopic", "no rule"


def classify_text(text: str) -> str:
    """The kind of one message, without context."""
    return match(text)[0]


def group_log(export: Export, members_end: int | None = None) -> GroupLog:
    """Classify every message and read membership from the system lines; the text stays behind.

    Context rule: a message that only rule 12 (a description) or no rule matched, posted within
    ``FOLLOW_UP`` minutes of another member's signal, SAAR or sighting, is a ``sighting``: it adds to the
    incident.
    """
    lines = export.lines
    admins = {x.actor for x in lines if x.system in ("added", "removed", "created") and x.actor}
    posts, changes, skipped = [], [], Counter()
    last_signal = None
    for line in lines:
        if line.system is None:
            kind, rule = match(line.text)
            if rule in (DESCRIPTION, "no rule") and last_signal is not None and last_signal.author != line.author \
                    and (line.time - last_signal.time).total_seconds() <= FOLLOW_UP * 60:
                kind = "sighting"
            if kind in ("signal", "saar", "sighting"):
                last_signal = Post(line.time, line.author, kind)
            if kind == "admin_warning":
                admins.add(line.author)
            posts.append(Post(line.time, line.author, kind))
        elif line.system == "removed":
            for who in line.who:
                posts.append(Post(line.time, line.actor or "unknown", "admin_removal"))
                changes.append(Change(line.time, who, "removed"))
        elif line.system in ("added", "joined"):
            changes += [Change(line.time, who, "joined") for who in line.who]
            skipped[line.system] += 1
        elif line.system == "left":
            changes += [Change(line.time, who, "left") for who in line.who]
            skipped[line.system] += 1
        else:
            skipped[line.system] += 1
    if members_end is None:
        members_end = len(_still_in(export.members, changes))
    return GroupLog(lines[0].time, lines[-1].time, tuple(posts), tuple(changes), frozenset(admins),
                    int(members_end), skipped)


def _still_in(members: set[str], changes: list[Change]) -> set[str]:
    last = {c.member: c.change for c in sorted(changes, key=lambda c: c.time)}
    return {m for m in members if last.get(m, "joined") == "joined"}


def truth_accuracy(predicted: list[str], truth: list[str]) -> dict[str, dict[str, float]]:
    """Per kind: how many messages of that true kind, and the share classified right (recall) and the
    share of those classified as that kind that are right (precision)."""
    out = {}
    for kind in sorted(set(truth) | set(predicted)):
        n_true = sum(t == kind for t in truth)
        n_pred = sum(p == kind for p in predicted)
        hit = sum(t == p == kind for t, p in zip(truth, predicted))
        out[kind] = {"n": n_true, "recall": hit / n_true if n_true else float("nan"),
                     "precision": hit / n_pred if n_pred else float("nan")}
    return out
