"""Classify each message of an export into one of the model's kinds (``sim.chat.MESSAGE_KINDS``).

Transparent rules, Dutch and English, applied in this order (the first that fires wins); the text of a
message is read here and nowhere after, what leaves this module is a text-free ``GroupLog``:

1. **reply**: only emoji and acknowledgements (👍, "dank je", "thanks", "ok", "top") in at most six words,
   or a thank-you without a word of rules 3, 5, 7 or 8;
2. **admin_question**: a question (``?``) about calling 112 or the police ("heb je 112 gebeld?");
3. **closing**: the incident is over ("afmelding", "afgemeld", "einde melding", "all clear", "loos alarm");
4. **police_feedback**: the police or the wijkagent report back ("terugkoppeling", "bericht van de
   wijkagent", "update from the police");
5. **saar**: 112 (or the police) was called ("112 gebeld", "politie gebeld", "called 112", "SAAR");
6. **admin_warning**: the house rules ("alleen voor meldingen", "waarschuwing", "geen reacties",
   "only for alerts", "house rules");
7. **sighting**: confirming or adding to a signal ("ik zie ze ook", "klopt", "zelfde man", "I see them too");
8. **signal**: suspicion words ("verdacht", "let op", "inbreker", "kenteken", "suspicious", "watch out",
   "break-in", "plate");
9. **offtopic**: everything else, except (context) a message within an hour of another member's signal,
   which adds to the incident: **sighting**.

The full word lists are ``RULES`` below. They were revised once, on the misses of a held-out set of
phrasings; their accuracy is measured on a second, fresh set (tests/test_chat_import.py, docs/chat_import.md).

**admin_removal** is not a message but the system line "X removed Y" / "X heeft Y verwijderd".
The admins are the members who add or remove members (system lines), and anyone who posts a house-rule
warning. Admin kinds (2, 3, 6) posted by a member who is not an admin are still admin kinds: a member who
reminds the group of its rules acts as moderator, and the export does not say who is admin otherwise.
"""

from __future__ import annotations

import re
import unicodedata
from collections import Counter
from dataclasses import dataclass

from experiments.chat_import.parse import Export

RULES: tuple[tuple[str, re.Pattern], ...] = tuple((kind, re.compile(rx, re.I)) for kind, rx in (
    ("admin_question", r"(112|politie|police|alarmnummer).*\?|\?.*(112|politie|police)"),
    ("closing", r"\b(afmelding|afgemeld|einde (van de )?melding|situatie is (voorbij|afgehandeld|opgelost)|"
                r"melding (is )?afgehandeld|loos alarm|vals alarm|all clear|false alarm|situation is over|"
                r"incident (is )?closed|sorted now|was (de|het|een) (nieuwe )?(buurman|buurvrouw|bezorger|"
                r"postbode|visite)|was (the|a|our) (new )?(neighbou?r|delivery|postman|courier|visitor))"),
    ("police_feedback", r"(terugkoppeling|wijkagent|bericht van de politie|politie (laat weten|meldt|"
                        r"heeft .* (onderzocht|aangehouden))|update (van|from) (de |the )?(politie|police)|"
                        r"feedback from the police|the police (report|say|have|checked)|police update|"
                        r"community officer|neighbourhood officer|aanhouding verricht|arrest(ed)? (was )?made)"),
    ("saar", r"(112 (is )?(gebeld|ingeschakeld|called|rang)|politie (is )?gebeld|(heb|hebben|ik) .*112 "
             r"gebeld|(called|rang|phoned|dialled) (the police|999|112)|\bsaar\b|police (have been |were |are )?"
             r"called|112 (gebeld|called)|(politie|police|112|999)[^.?!]{0,40}(gebeld|called|phoned|onderweg|"
             r"on (its|the) way|ingeschakeld|alerted|informed|ingelicht)|(bel nu|calling|gebeld|phoned)[^.?!]"
             r"{0,20}(politie|police|112|999))"),
    ("admin_warning", r"(alleen (voor |bedoeld voor )?(meldingen|alarm|verdachte)|waarschuwing|geen "
                      r"(reacties|off[- ]?topic|kletsen|gezellige)|huisregels|regels van (de|deze) groep|"
                      r"groepsregels|wordt verwijderd|word je verwijderd|only for (alerts|reports|"
                      r"suspicious)|house rules|group rules|no (chatter|replies|off[- ]?topic)|"
                      r"stick to the rules|will be removed|final warning|(for|voor) (reports|meldingen|alerts) "
                      r"only|verwijder ik je|remove you|uit de groep|out of the group)"),
    ("sighting", r"(ik zie (ze|hem|haar|het|die) ook|zie (ze|hem|haar) nu|(ook|net) (bij ons|langs)|"
                 r"\bklopt\b|bevestig|zelfde (man|vrouw|auto|busje|scooter|persoon|jongens)|ook gezien|"
                 r"nu richting|i see (them|him|her|it) too|same (man|guy|woman|car|van|scooter|person)|"
                 r"confirm|also saw|just (passed|drove past|walked past)|now heading|(seen|saw) (him|them) "
                 r"(too|as well)|as well|ook (net )?(gezien|zien)|vorige week ook|last week too|"
                 r"\bnu (bij|voor|de hoek|richting)|\bnow (at|in|by|heading)|turned the corner|de hoek om)"),
    ("signal", r"(verdacht|let op|opgelet|inbre(ker|ken|kers|aak)|\binbraak|poging|kenteken|busje|"
               r"zaklamp|rondjes|gluren|loert|capuchon|schuur|achterom|achterdeur|deurklink|braak|"
               r"aan het voelen|door de ramen|stapvoets|"
               r"suspicious|watch out|heads up|break[- ]?in|burglar|\bplate\b|flashlight|torch|"
               r"loitering|hood(ie|ed)|trying (the |back |car )?doors|door handles|prowl|casing|"
               r"peering|peeking|into (the )?windows|crawling|every doorbell|"
               r"vreemde|onbekende|niet pluis|breekijzer|klimt|klink|fotografeer|over (het|de) (hek|schutting)|"
               r"strange|unknown (man|woman|car|person)|doesn't feel right|not right|crowbar|climbing|"
               r"handles|photographing|over the fence)"),
))
ACKS = re.compile(r"^(dank( je| jullie)?( wel)?|bedankt|thanks?( you)?|thx|ok(é|e|ay)?|top|super|prima|"
                  r"goed (zo|opgelet|gedaan)|fijn|cheers|great|nice|good (job|spot)|noted|gezien|"
                  r"ty|merci|held|helden)$", re.I)


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


def is_emoji_or_ack(text: str) -> bool:
    """Only emoji/punctuation, or a short acknowledgement ("dank je 👍", "ok thanks")."""
    letters = "".join(ch for ch in text if unicodedata.category(ch)[0] in "LN" or ch.isspace())
    words = re.sub(r"[^\w\s]", " ", letters).split()
    if not words:
        return True
    if len(words) > 6:
        return False
    phrase = " ".join(words).lower()
    return bool(ACKS.match(phrase)) or all(ACKS.match(w) for w in words) or bool(
        re.search(r"\b(dank|bedankt|thanks|thank you)\b", phrase) and not any(
            rx.search(text) for k, rx in RULES if k in ("signal", "saar", "closing", "sighting")))


def classify_text(text: str) -> str:
    """The kind of one message by the rules of the module docstring."""
    if is_emoji_or_ack(text):
        return "reply"
    for kind, rx in RULES:
        if rx.search(text):
            return kind
    return "offtopic"


FOLLOW_UP = 60   # minutes: an unmatched message this soon after another member's signal adds to it


def group_log(export: Export, members_end: int | None = None) -> GroupLog:
    """Classify every message and read membership from the system lines; the text stays behind.

    Context rule: a message no rule matches (would be ``offtopic``) posted within ``FOLLOW_UP`` minutes
    of another member's signal, SAAR or sighting is a ``sighting``: it adds to the incident.
    """
    lines = export.lines
    admins = {x.actor for x in lines if x.system in ("added", "removed", "created") and x.actor}
    posts, changes, skipped = [], [], Counter()
    last_signal = None
    for line in lines:
        if line.system is None:
            kind = classify_text(line.text)
            if kind == "offtopic" and last_signal is not None and last_signal.author != line.author and (
                    line.time - last_signal.time).total_seconds() <= FOLLOW_UP * 60:
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
