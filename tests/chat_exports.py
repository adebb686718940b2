"""A generator of realistic WhatsApp exports from a known script, so the truth of every line is known.

A *script* is a list of ``Entry``: when, who (a made-up name or phone number), and the true kind — one of
``sim.chat.MESSAGE_KINDS`` for a message, or a system kind (``encryption``, ``added``, ``removed``,
``left``, ``joined``, ``subject``, ``media``, ``deleted``). ``render`` writes it in the exact layout of
an export: Android or iOS, Dutch or English phone settings, 12- or 24-hour clock (``FORMATS``), with
iOS's direction marks and narrow no-break spaces, multi-line messages and emoji. Scripts come from
``scripted_chat`` (a neighbourhood group's year, drawn at random) or ``from_model`` (the messages of a
model run, so that a calibration can be checked against known parameters).

All names, numbers, streets and plates here are invented.
"""

from __future__ import annotations

import io
import zipfile
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from pathlib import Path

import numpy as np

LRM, NNBSP = "\u200e", "\u202f"


@dataclass(frozen=True)
class Format:
    platform: str      # android | ios
    language: str      # nl | en
    date: str          # strftime of the date part
    clock: int         # 12 | 24


FORMATS = {
    "android_nl_24": Format("android", "nl", "%d-%m-%Y", 24),
    "android_en_12": Format("android", "en", "%m/%d/%y", 12),
    "android_en_24": Format("android", "en", "%d/%m/%Y", 24),
    "ios_nl_24": Format("ios", "nl", "%d-%m-%Y", 24),
    "ios_en_12": Format("ios", "en", "%m/%d/%y", 12),
    "ios_en_24": Format("ios", "en", "%d/%m/%Y", 24),
}


@dataclass(frozen=True)
class Entry:
    time: datetime
    author: str | None          # None for system lines
    kind: str
    text: str = ""
    actor: str | None = None    # system: who added/removed
    who: tuple[str, ...] = ()   # system: who was added/removed/left/joined


@dataclass
class Script:
    entries: list[Entry]
    group: str = "Buurtpreventie Lindenhof"
    members_end: int | None = None
    planted: list[str] = field(default_factory=list)   # strings that must never reach an output

    @property
    def messages(self) -> list[Entry]:
        return [e for e in self.entries if e.author is not None and e.kind not in ("media", "deleted")]


# -- texts per kind -------------------------------------------------------------------------------------
TEXTS = {
    "nl": {
        "signal": ["Verdachte man loopt bij de auto's te kijken, hoek {street}. Donkere jas, capuchon op",
                   "Let op: twee jongens op een scooter rijden al 3x rondjes door de wijk 👀",
                   "Er staat een busje met draaiende motor bij nr {no}, kenteken {plate}. Iemand bekend?",
                   "Zojuist iemand aan de achterdeuren aan het voelen op de {street}!",
                   "Verdacht: man met zaklamp in de tuinen achter de {street}\nRichting speeltuin gelopen",
                   "Opgelet, vrouw belt overal aan en kijkt door de ramen {street} {no}",
                   "Poging tot inbraak bij de schuur van nr {no} vannacht. Houd je ogen open"],
        "saar": ["112 gebeld! Man probeert fiets open te breken bij de {street}",
                 "SAAR: politie is gebeld, inbreker gezien bij {street} {no} 🚨",
                 "Heb net 112 gebeld, twee mannen bij de schuur van nr {no}",
                 "Politie gebeld. Auto met kenteken {plate} rijdt stapvoets door de straat\nDonkere kleur"],
        "sighting": ["Ik zie ze ook, lopen nu richting het park", "Klopt, net langs ons huis gereden",
                     "Zelfde man stond net ook bij ons in de {street}", "Ik zie hem ook 👀 bij de bushalte",
                     "Ook gezien! Nu richting {street}"],
        "reply": ["👍", "Dank je!", "Top, bedankt voor het melden 🙏", "👍👍", "Oké", "Goed opgelet!",
                  "Bedankt allemaal", "🙏"],
        "offtopic": ["Wie heeft mijn kat gezien? Rood met wit, luistert naar Minoes 🐱",
                     "Weet iemand een goede loodgieter in de buurt?", "Morgen wordt het oud papier opgehaald",
                     "Gevonden: sleutelbos bij de brievenbus op de {street}", "Fijne feestdagen allemaal! 🎄",
                     "Is er bij jullie ook stroomstoring?", "Wie wil er mee met de buurtbarbecue zaterdag?\n"
                     "Opgeven bij {name}, {phone}"],
        "admin_question": ["Heb je 112 gebeld?", "Is de politie al gebeld? Eerst 112, dan de app",
                           "Graag eerst 112 bellen! Heeft iemand dat al gedaan?"],
        "admin_warning": ["Beste leden, deze groep is alleen voor meldingen van verdachte situaties. Graag "
                          "geen reacties.", "Waarschuwing: geen off-topic berichten, bij herhaling word je "
                          "verwijderd.", "Let op de groepsregels: geen kletsen in deze groep aub"],
        "police_feedback": ["Bericht van de wijkagent: de melding van gisteren is onderzocht, het ging om "
                            "een schoonmaakbedrijf.", "Terugkoppeling politie: er is een aanhouding verricht "
                            "naar aanleiding van jullie melding 👮", "Update van de politie: de eenheid is "
                            "ter plaatse geweest, niets aangetroffen."],
        "closing": ["Afmelding: de situatie is voorbij, iedereen bedankt.", "Afgemeld, het was de nieuwe "
                    "buurman 😊", "Situatie is afgehandeld. Einde melding."],
        "media": "<Media weggelaten>", "media_ios": "afbeelding weggelaten",
        "deleted": "Dit bericht is verwijderd",
        "encryption": "Berichten en oproepen zijn end-to-end versleuteld. Niemand buiten deze chat, zelfs "
                      "WhatsApp niet, kan ze lezen of beluisteren.",
        "added": "{actor} heeft {who} toegevoegd", "removed": "{actor} heeft {who} verwijderd",
        "left": "{who} is vertrokken", "joined": "{who} neemt deel via de uitnodigingslink van deze groep",
        "subject": '{actor} heeft het onderwerp gewijzigd van "Buurt" naar "{group}"', "and": " en ",
    },
    "en": {
        "signal": ["Suspicious man looking into cars on the corner of {street}. Dark coat, hood up",
                   "Watch out: two lads on a scooter have circled the estate 3 times 👀",
                   "Van with the engine running outside no. {no}, licence plate {plate}. Anyone know it?",
                   "Someone just trying back doors on {street}!",
                   "Heads up: man with a torch in the back gardens behind {street}\nWent towards the park",
                   "Woman ringing every doorbell and peering into windows, {street} {no}",
                   "Attempted break-in at the shed of no. {no} last night. Keep your eyes open"],
        "saar": ["Called 112! Man trying to break a bike lock at {street}",
                 "SAAR: police have been called, burglar seen at {street} {no} 🚨",
                 "Just called 112, two men at the shed of no. {no}",
                 "Police called. Car with plate {plate} crawling down the street\nDark colour"],
        "sighting": ["I see them too, now heading to the park", "Same car just drove past our house",
                     "Same man was in {street} a minute ago", "I see him too 👀 at the bus stop",
                     "Also saw them! Now heading down {street}"],
        "reply": ["👍", "Thanks!", "Thank you for reporting 🙏", "👍👍", "OK", "Good spot!",
                  "Thanks all", "🙏"],
        "offtopic": ["Has anyone seen my cat? Ginger and white, answers to Tigger 🐱",
                     "Does anyone know a good plumber nearby?", "Bins go out tomorrow",
                     "Found: a bunch of keys by the letterbox on {street}", "Merry Christmas everyone! 🎄",
                     "Is your power out too?", "Who's coming to the street barbecue on Saturday?\n"
                     "Sign up with {name}, {phone}"],
        "admin_question": ["Did you call 112?", "Have the police been called? 112 first, then the app",
                           "Please call 112 first! Has anyone done that?"],
        "admin_warning": ["Dear members, this group is only for reports of suspicious situations. No "
                          "replies please.", "Warning: no off-topic posts, next time you will be removed.",
                          "Please stick to the group rules: no chatter in this group"],
        "police_feedback": ["Message from the community officer: yesterday's report was checked, it was a "
                            "cleaning company.", "Feedback from the police: an arrest was made after your "
                            "report 👮", "Update from the police: a unit went to look, nothing found."],
        "closing": ["All clear: the situation is over, thanks everyone.", "False alarm, it was the new "
                    "neighbour 😊", "Incident closed. Thanks for watching out."],
        "media": "<Media omitted>", "media_ios": "image omitted",
        "deleted": "This message was deleted",
        "encryption": "Messages and calls are end-to-end encrypted. No one outside of this chat, not even "
                      "WhatsApp, can read or listen to them.",
        "added": "{actor} added {who}", "removed": "{actor} removed {who}", "left": "{who} left",
        "joined": "{who} joined using this group's invite link",
        "subject": '{actor} changed the subject from "Street" to "{group}"', "and": " and ",
    },
}
# Other phrasings, written after the rules and never used to tune them: the held-out accuracy.
HELDOUT = {
    "nl": {
        "signal": ["Vreemde auto staat al een uur met twee mensen erin bij de {street}, iemand een idee?",
                   "Jongen met rugzak probeert bij verschillende huizen de klink, {street}",
                   "Er loopt iemand met een breekijzer rond bij de garages!!",
                   "Man fotografeert huizen op de {street} 📸 niet pluis"],
        "saar": ["Ik heb de politie net gebeld, er wordt ingebroken op {street} {no}",
                 "112 is onderweg, man klimt over het hek bij nr {no}"],
        "sighting": ["Hij staat nu voor mijn deur", "Die auto heb ik vorige week ook gezien",
                     "Is nu de hoek om richting {street}"],
        "reply": ["Thx 👍", "Heel goed, dank!", "💪", "Oké top"],
        "offtopic": ["Heeft iemand een ladder te leen?", "Gefeliciteerd buurvrouw! 🎂",
                     "Waar kan ik grofvuil kwijt?", "Pakketje voor nr {no} bij mij afgegeven"],
        "admin_question": ["Al 112 gebeld?", "Heeft iemand de politie ingelicht?"],
        "admin_warning": ["Nogmaals: deze app is alleen voor meldingen. Volgende keer verwijder ik je.",
                          "Geen reacties in deze groep svp, dat leidt af"],
        "police_feedback": ["Namens de wijkagent: de verdachte van gisteren is bekend bij ons.",
                            "De politie laat weten dat er extra gesurveilleerd wordt."],
        "closing": ["Het was loos alarm, de bewoner was zijn sleutel kwijt.", "Afmelding, alles is weer rustig"],
    },
    "en": {
        "signal": ["Strange car parked for an hour with two people inside on {street}, any idea?",
                   "Lad with a backpack trying handles of several houses, {street}",
                   "Someone walking around the garages with a crowbar!!",
                   "Man photographing houses on {street} 📸 doesn't feel right"],
        "saar": ["I just phoned the police, someone is breaking in at {street} {no}",
                 "112 on its way, man climbing the fence at no. {no}"],
        "sighting": ["He's at my door now", "I saw that car last week too", "Just turned the corner into {street}"],
        "reply": ["Thx 👍", "Brilliant, thanks!", "💪", "OK great"],
        "offtopic": ["Can anyone lend me a ladder?", "Happy birthday neighbour! 🎂",
                     "Where do I take bulky rubbish?", "Parcel for no. {no} left with me"],
        "admin_question": ["Called 112 yet?", "Has anyone informed the police?"],
        "admin_warning": ["Again: this app is for reports only. Next time I remove you.",
                          "No replies in this group please, it distracts"],
        "police_feedback": ["On behalf of the community officer: yesterday's suspect is known to us.",
                            "The police say there will be extra patrols."],
        "closing": ["It was a false alarm, the resident had lost his key.", "All clear, everything is quiet again"],
    },
}

# A second held-out set, written before the rules were revised on the misses of HELDOUT (docs/chat_import.md).
FRESH = {
    "nl": {
        "signal": ["Twee mannen in een grijze Golf rijden heel langzaam langs de huizen op de {street}",
                   "Iemand staat met een zaklantaarn in de auto van nr {no} te schijnen",
                   "Opletten mensen, er gaan deur aan deur 'collectanten' rond zonder pasje",
                   "Net een persoon over de schutting zien springen achter de {street}"],
        "saar": ["Politie is ingeschakeld via 112, man rommelt aan de fietsen bij de flat",
                 "Ik bel nu 112, ze zijn bij de achterdeur van {no}"],
        "sighting": ["Staan nu bij de bushalte", "Ja die heb ik ook net zien lopen", "Richting de {street} gegaan"],
        "reply": ["Dankjewel", "👌", "Goed dat je het meldt!", "Ok dank"],
        "offtopic": ["Wie gaat er zondag mee hardlopen?", "Mijn container is niet geleegd, bij jullie wel?",
                     "Te koop: kinderfiets, zo goed als nieuw", "Wat een onweer vannacht ⛈️"],
        "admin_question": ["Is er al iemand die 112 heeft gebeld?", "Politie al op de hoogte?"],
        "admin_warning": ["Denk aan de huisregels: hier alleen verdachte situaties melden.",
                          "Dit is de tweede keer, bij de volgende off-topic post word je uit de groep gezet."],
        "police_feedback": ["Wijkagent hier: bedankt voor de melding, de collega's hebben de man gesproken.",
                            "Van de politie: de auto bleek gestolen en is in beslag genomen."],
        "closing": ["Melding afgehandeld, het was een bezorger.", "Einde melding: politie is ter plaatse geweest."],
    },
    "en": {
        "signal": ["Two men in a grey Golf driving very slowly past the houses on {street}",
                   "Someone shining a torch into the car of no. {no}",
                   "Careful people, 'collectors' going door to door without any ID",
                   "Just saw a person jump over the fence behind {street}"],
        "saar": ["Police alerted via 112, man fiddling with the bikes at the flats",
                 "Calling 112 now, they are at the back door of {no}"],
        "sighting": ["Now at the bus stop", "Yes I just saw them walk by as well", "Went towards {street}"],
        "reply": ["Cheers", "👌", "Good that you report it!", "Ok thanks"],
        "offtopic": ["Anyone up for a run on Sunday?", "My bin wasn't emptied, yours?",
                     "For sale: child's bike, as good as new", "What a storm last night ⛈️"],
        "admin_question": ["Has anyone called 112 yet?", "Police informed already?"],
        "admin_warning": ["Remember the house rules: only suspicious situations here.",
                          "Second time now, the next off-topic post and you are out of the group."],
        "police_feedback": ["Community officer here: thanks for the report, colleagues spoke to the man.",
                            "From the police: the car turned out to be stolen and has been seized."],
        "closing": ["Report closed, it was a delivery driver.", "Incident over: police have been on site."],
    },
}

# A fourth set (issue 13, second session), more informal (lower case, no punctuation, abbreviations) and
# with traps: a thank-you that is chatter, an "iemand" question that is chatter, signals without any
# suspicion word. Measured before the rules were revised (0.51), then used to revise them: a tuning set.
# The test set is app_texts() below, by another author.
INFORMAL = {
    "nl": {
        "signal": ["Er loopt al een tijdje een man heen en weer bij de garageboxen achter de {street}",
                   "wit bestelbusje zonder logo bij nr {no}, 2 mannen kijken steeds om zich heen",
                   "Mensen opletten! Twee mannen bellen aan en zeggen dat ze van de energie zijn, {street}",
                   "jongen op een fiets kijkt bij alle autos naar binnen, nu bij nr {no}",
                   "Vannacht om 4 uur iemand in onze tuin gezien op de camera. Lang, donkere kleding",
                   "scooter met 2 personen rijdt al 20 min door de {street} zonder licht",
                   "Pas op, er gaan oplichters langs de deuren die om een glas water vragen"],
        "saar": ["Heb de politie gebeld, ze komen eraan", "112 gebeld, er staat iemand op het dak van nr {no}!!",
                 "politie is onderweg, ik heb gebeld. man met koevoet bij de {street}",
                 "Melding gedaan bij 112: twee mannen slaan een autoruit in op de {street}",
                 "ik heb 112 al gebeld! inbraak bezig op nr {no}"],
        "sighting": ["ja zie ze ook vanuit mijn raam", "die man liep hier 10 min geleden ook",
                     "Zijn nu de {street} ingelopen", "Die auto stond gisteren ook al hier",
                     "Ik heb hem op mijn deurbelcamera, zelfde jas", "Net bij ons voorbij gereden"],
        "reply": ["👍🏻", "Dankjewel voor het melden!", "thnx", "👀👍", "Top dat je oplet", "Fijn, dank je",
                  "Goed zo 👏"],
        "offtopic": ["Kent iemand een goede oppas voor vrijdagavond?", "De gemeente komt volgende week de bomen snoeien",
                     "Wie heeft er een aanhanger die ik mag lenen?", "Gefeliciteerd met jullie kleine! 💙",
                     "Is de markt morgen gewoon door?",
                     "Mijn pakket is bij iemand anders bezorgd, nr {no}, heeft iemand het?",
                     "Leuk buurtfeest gisteren, bedankt organisatie!"],
        "admin_question": ["Heeft er al iemand 112 gebeld?", "Is dit al bij de politie gemeld?",
                           "Graag eerst 112 bellen en dan pas appen. Is dat gebeurd?", "Wie belt de politie?"],
        "admin_warning": ["Even een herinnering: deze groep is voor meldingen, niet voor gezellig kletsen 🙏",
                          "Reacties als dank je graag prive sturen, anders wordt de groep onoverzichtelijk",
                          "Laatste keer: houd je aan de regels, anders haal ik je uit de app",
                          "Geen foto's van personen plaatsen aub, dat is niet toegestaan"],
        "police_feedback": ["Van de politie gehoord: de man van gisteren is aangehouden",
                            "Update wijkagent: deze week extra surveillance in de wijk",
                            "De politie heeft de auto gecontroleerd, alles in orde",
                            "Politie is langs geweest en heeft de man aangesproken"],
        "closing": ["Alles is weer veilig, melding gesloten", "Opgelost: het was de schoonzoon van de buren 🙂",
                    "Het was niks, gewoon de glazenwasser", "Bij deze afgesloten, dank voor het meedenken"],
    },
    "en": {
        "signal": ["A man has been walking up and down by the garages behind {street} for a while now",
                   "white van with no logo at no. {no}, 2 men keep looking around",
                   "People be careful! Two men ringing doorbells saying they're from the energy company, {street}",
                   "lad on a bike looking into all the cars, now at no. {no}",
                   "Someone in our garden at 4am last night on the camera. Tall, dark clothes",
                   "scooter with 2 people riding around {street} for 20 min without lights",
                   "Beware, scammers going door to door asking for a glass of water"],
        "saar": ["Rang the police, they're coming", "999 called, someone is on the roof of no. {no}!!",
                 "police on the way, I called them. man with a crowbar at {street}",
                 "Reported it to 112: two men smashing a car window on {street}",
                 "i already called 112! break in happening at no. {no}"],
        "sighting": ["yes i can see them from my window", "that man was here 10 min ago too",
                     "They've gone into {street} now", "That car was parked here yesterday as well",
                     "Got him on my doorbell camera, same jacket", "Just went past ours"],
        "reply": ["👍🏻", "Thank you for reporting!", "thnx", "👀👍", "Great that you're watching", "Lovely, thanks",
                  "Well done 👏"],
        "offtopic": ["Does anyone know a good babysitter for Friday night?", "The council is pruning the trees next week",
                     "Who has a trailer I could borrow?", "Congratulations on your little one! 💙",
                     "Is the market on tomorrow?", "My parcel was delivered to someone else, no. {no}, has anyone got it?",
                     "Lovely street party yesterday, thanks to the organisers!"],
        "admin_question": ["Has anyone called 112 already?", "Has this been reported to the police?",
                           "Please call 112 first and post after. Has that happened?", "Who is calling the police?"],
        "admin_warning": ["Just a reminder: this group is for reports, not for a chat 🙏",
                          "Please send replies like thanks privately, otherwise the group gets cluttered",
                          "Last time: stick to the rules or I take you out of the app",
                          "Please don't post photos of people, that is not allowed"],
        "police_feedback": ["Heard from the police: yesterday's man has been arrested",
                            "Update community officer: extra patrols in the area this week",
                            "The police checked the car, all in order",
                            "Police came by and spoke to the man"],
        "closing": ["All safe again, report closed", "Solved: it was the neighbours' son-in-law 🙂",
                    "It was nothing, just the window cleaner", "Closed now, thanks for thinking along"],
    },
}

def app_texts() -> dict:
    """The test set: the app's chat texts (workshop/render.py ``MESSAGE_TEXTS``), written by another
    developer to show the model's messages in the workshop app, and never read while the rules were
    revised. In the generator's layout ({language: {kind: [phrasings]}}); a stigmatising signal is a signal."""
    from workshop.render import LANGUAGES, MESSAGE_TEXTS

    out = {}
    for i, language in enumerate(LANGUAGES):
        kinds: dict[str, list[str]] = {}
        for kind, pair in MESSAGE_TEXTS.items():
            if kind != "admin_removal":
                kinds.setdefault("signal" if kind == "stigmatising" else kind, []).extend(
                    t.replace("{node}", "{no}") for t in pair[i])
        out[language] = kinds
    return out


FIRST = ["Jan", "Piet", "Kees", "Marieke", "Sanne", "Fatima", "Mohammed", "Anouk", "Daan", "Lotte", "Sem",
         "Emma", "Youssef", "Ingrid", "Henk", "Priya", "Tom", "Esther", "Bram", "Noor"]
LAST = ["de Vries", "Jansen", "Bakker", "Visser", "Smit", "El Amrani", "Meijer", "de Boer", "Mulder",
        "Bos", "Vos", "Peters", "Hendriks", "van Dijk", "Kaya", "Dekker"]
STREETS = ["Lindenlaan", "Beukenstraat", "Kastanjehof", "Eikenweg", "Wilgenpad", "Dorpsstraat"]


def member_names(n: int, rng: np.random.Generator, phones: float = 0.15) -> list[str]:
    """``n`` distinct made-up members; some appear only as a phone number (not in the address book)."""
    names = [f"{a} {b}" for a in FIRST for b in LAST]
    picked = [names[i] for i in rng.choice(len(names), size=n, replace=False)]
    return [f"+31 6 {rng.integers(10_000_000, 99_999_999)}" if rng.random() < phones else nm for nm in picked]


def _fill(text: str, rng: np.random.Generator, names: list[str]) -> str:
    return text.format(street=STREETS[rng.integers(len(STREETS))], no=int(rng.integers(1, 120)),
                       plate=f"{rng.integers(10, 99)}-{''.join(rng.choice(list('BDFGHJKLNPRSTXZ'), 3))}-"
                             f"{rng.integers(1, 9)}", name=names[rng.integers(len(names))].split()[0],
                       phone=f"06-{rng.integers(10_000_000, 99_999_999)}")


def text_of(kind: str, language: str, rng: np.random.Generator, names: list[str], texts=None) -> str:
    options = (texts or TEXTS)[language][kind]
    return _fill(options[rng.integers(len(options))], rng, names)


# -- scripts --------------------------------------------------------------------------------------------
def scripted_chat(seed: int = 0, language: str = "nl", days: int = 240, members: int = 40,
                  start: datetime = datetime(2024, 1, 8, 9, 0), texts: dict | None = None) -> Script:
    """A neighbourhood group's chat at random: incidents with signals, SAAR, sightings, replies, the admin's
    question, warnings and closing, police feedback, chatter, joins, leaves, removals, media, deletions."""
    rng = np.random.default_rng(seed)
    names = member_names(members + 12, rng)
    admin, current, spare = names[0], names[:members], names[members:]
    t = start
    e = [Entry(t, None, "encryption"), Entry(t, None, "subject", actor=admin)]
    warned: set[str] = set()

    def at(minutes):
        return t + timedelta(seconds=round(float(minutes) * 60))

    while True:
        t = t + timedelta(hours=float(rng.exponential(30)))
        if t > start + timedelta(days=days):
            break
        t = t.replace(hour=int(rng.choice(24, p=_HOURS)), minute=int(rng.integers(60)), second=int(rng.integers(60)),
                      microsecond=0)
        r = rng.random()
        who = current[1 + rng.integers(len(current) - 1)]
        if r < 0.3:      # an incident
            e.append(Entry(t, who, kind := ("saar" if rng.random() < 0.25 else "signal"),
                           text_of(kind, language, rng, names, texts)))
            k = 1
            for _ in range(rng.poisson(0.8)):
                e.append(Entry(at(k := k + rng.integers(1, 20)), current[rng.integers(1, len(current))],
                               "sighting", text_of("sighting", language, rng, names, texts)))
            for _ in range(rng.poisson(1.5)):
                e.append(Entry(at(k := k + rng.integers(1, 30)), current[rng.integers(1, len(current))],
                               "reply", text_of("reply", language, rng, names, texts)))
            if rng.random() < 0.15:
                e.append(Entry(at(k + 2), who, "media"))
            if kind == "signal" and rng.random() < 0.3:
                e.append(Entry(at(k := k + 5), admin, "admin_question", text_of("admin_question", language, rng, names, texts)))
            if rng.random() < 0.2:
                e.append(Entry(at(k := k + 120), admin, "police_feedback", text_of("police_feedback", language, rng, names, texts)))
            if rng.random() < 0.5:
                e.append(Entry(at(k + 180), admin, "closing", text_of("closing", language, rng, names, texts)))
        elif r < 0.75:   # chatter, maybe moderated
            e.append(Entry(t, who, "offtopic", text_of("offtopic", language, rng, names, texts)))
            if rng.random() < 0.6:
                if who in warned:
                    e.append(Entry(at(rng.exponential(40) + 1), None, "removed", actor=admin, who=(who,)))
                    current.remove(who)
                else:
                    warned.add(who)
                    e.append(Entry(at(rng.exponential(40) + 1), admin, "admin_warning",
                                   text_of("admin_warning", language, rng, names, texts)))
        elif r < 0.85 and spare:   # someone joins
            new = spare.pop()
            e.append(Entry(t, None, "added" if rng.random() < 0.6 else "joined",
                           actor=admin, who=(new,)))
            current.append(new)
        elif r < 0.9 and len(current) > 5:   # someone leaves
            gone = current[1 + rng.integers(len(current) - 1)]
            e.append(Entry(t, None, "left", who=(gone,)))
            current.remove(gone)
        elif r < 0.95:
            e.append(Entry(t, who, "deleted"))
        else:
            e.append(Entry(t, who, "media"))
    e.sort(key=lambda x: x.time)
    return Script(e, members_end=len(current))


_HOURS = np.array([1, 1, 1, 1, 1, 2, 4, 6, 8, 8, 7, 7, 7, 7, 7, 8, 9, 10, 11, 11, 10, 8, 5, 3], float)
_HOURS /= _HOURS.sum()


def from_model(model, days: int, language: str = "nl", seed: int = 0,
               start: datetime = datetime(2024, 1, 1)) -> Script:
    """The chat of a model run as a script: each message gets a text of its kind and its author a name."""
    rng = np.random.default_rng(seed)
    nodes = len(model.residents.member)
    names = member_names(nodes + 1, rng, phones=0.1)
    name = {i: names[i] for i in range(nodes)}
    name[-1] = "Wijkagent " + names[nodes].split()[-1]
    e = [Entry(start, None, "encryption")]
    for m in sorted(model.chat.log, key=lambda m: m.time):
        if m.time >= days * 1440:
            continue
        t = start + timedelta(seconds=round(float(m.time) * 60))
        if m.kind == "admin_removal":
            e.append(Entry(t, None, "removed", actor=name[m.author], who=(name[m.node],)))
        else:
            e.append(Entry(t, name[m.author], m.kind, text_of(m.kind, language, rng, names)))
    return Script(e, members_end=int(model.residents.member.sum()))


# -- rendering ------------------------------------------------------------------------------------------
def _stamp(t: datetime, f: Format) -> str:
    date = t.strftime(f.date)
    if f.clock == 12:
        h = t.hour % 12 or 12
        clock = f"{h}:{t:%M}" + (f":{t:%S}" if f.platform == "ios" else "")
        clock += (NNBSP if f.platform == "ios" else " ") + ("PM" if t.hour >= 12 else "AM")
    else:
        clock = f"{t:%H:%M}" + (f":{t:%S}" if f.platform == "ios" else "")
    sep = ", " if f.language == "en" else " "
    return f"[{date}{sep}{clock}]" if f.platform == "ios" else f"{date}{sep}{clock} -"


def render(script: Script, fmt: str) -> str:
    f, words = FORMATS[fmt], TEXTS[FORMATS[fmt].language]
    out = []
    for x in script.entries:
        stamp = _stamp(x.time, f)
        if x.author is not None:
            body = x.text
            if x.kind == "media":
                body = (LRM + words["media_ios"]) if f.platform == "ios" else words["media"]
            elif x.kind == "deleted":
                body = (LRM if f.platform == "ios" else "") + words["deleted"]
            out.append(f"{stamp} {x.author}: {body}")
            continue
        body = words[x.kind].format(actor=x.actor, who=words["and"].join(x.who), group=script.group)
        if f.platform == "ios":
            out.append(f"{stamp} {script.group}: {LRM}{body}")
        else:
            out.append(f"{stamp} {body}")
    return "\n".join(out) + "\n"


def write_export(script: Script, fmt: str, path: Path, as_zip: bool = False, media: bool = True) -> Path:
    """Write the export as WhatsApp does: a ``.txt``, or a ``.zip`` with the chat (and media files)."""
    text = render(script, fmt)
    if not as_zip:
        path.write_text(text, encoding="utf-8")
        return path
    inner = "_chat.txt" if FORMATS[fmt].platform == "ios" else f"WhatsApp Chat with {script.group}.txt"
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as z:
        z.writestr(inner, text)
        if media:
            z.writestr("00000012-PHOTO-2024-03-12-21-15-07.jpg", b"\xff\xd8\xff\xe0 not really a photo")
    path.write_bytes(buf.getvalue())
    return path
