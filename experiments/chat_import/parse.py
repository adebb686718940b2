"""Read a WhatsApp "Export chat" file and parse it into pseudonymised lines, in memory.

whatstk (0.9.1) does what a maintained parser should: it cleans the text (invisible direction marks,
NFKC so iOS's narrow no-break space before AM/PM becomes a space) and detects the header format
(Android ``12-03-2024 21:15 - Name:``, iOS ``[12-03-2024 21:15:07] Name:``, day/month order, 12- or
24-hour clock) and turns it into a regular expression. Two of its steps fail on group exports and are
replaced here (tests/test_chat_import.py measures both):

- ``df_from_whatsapp`` drops Android system lines (joined, left, added, removed, ...): a line without
  ``Name:`` is glued to the message before it and then cut off, so members over time cannot be read;
- its reader refuses a ``.zip`` exported *with media* (it expects exactly one file in the archive).

So we read the ``.txt`` (or the chat inside a ``.zip``) into memory ourselves, and walk the lines with
whatstk's header expressions, keeping line numbers for error messages.

Privacy: names and phone numbers of authors, and of members named in system lines, become pseudonyms
(``member_01`` ...) while the lines are read; the mapping lives only inside ``parse`` and is dropped.
Message text is kept in memory for classification only (``Line.text``, hidden from ``repr``), and no
error message quotes a line: errors name the line number. whatstk logs the header it inspects at
DEBUG level (which contains a name), so its logging is switched off while it runs.
"""

from __future__ import annotations

import logging
import re
import zipfile
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path

from whatstk.whatsapp.auto_header import extract_header_from_text
from whatstk.whatsapp.parser import _clean_text, generate_regex   # _clean_text: pinned whatstk==0.9.1

MAX_BYTES = 50 * 1024 * 1024   # as whatstk's own cap: far more than any real export
EXPORTER = "exporter"          # "You"/"Je" in system lines: the member who exported the chat

# A line that starts like a WhatsApp header: a date and a time, optionally in brackets.
DATE_LIKE = re.compile(r"^\[?\d{1,4}[-/.]\d{1,2}[-/.]\d{1,4},?\s+\d{1,2}[:.]\d{2}")
YOU = {"you", "je", "jij", "u"}
EDITED = re.compile(r"\s*<(this message was edited|dit bericht is bewerkt)>\s*$", re.I)
_AND = re.compile(r",\s*|\s+(?:and|en)\s+")

# System lines (after whatstk's cleaning), Dutch and English, Android and iOS; first match wins.
# Named groups: ``actor`` (who did it) and ``who`` (the members it is about: a list joined by commas
# and and/en). Only media and deleted-message lines come with a member as author.
_WHO = r"(?P<who>.+?)"
SYSTEM: tuple[tuple[str, re.Pattern], ...] = tuple((kind, re.compile(rx, re.I)) for kind, rx in (
    ("encryption", r"^(messages and calls are end-to-end encrypted|berichten en oproepen zijn "
                   r"end-to-end versleuteld)"),
    ("created", r"^(?P<actor>.+?) (created group|created this group)"),
    ("created", r"^(?P<actor>.+?) heeft (de )?groep .*(aan)?gemaakt"),
    ("subject", r"^.+? (changed|deleted) (the subject|the group description|the group's icon|the group "
                r"name|this group's (icon|settings|description|name))"),
    ("subject", r"^.+? heeft (het onderwerp|de groepsbeschrijving|de groepsafbeelding|de groepsnaam|"
                r"de groepsinstellingen|het groepspictogram) (gewijzigd|verwijderd)"),
    ("added", rf"^(?P<actor>.+?) added {_WHO}$"),
    ("added", rf"^(?P<actor>.+?) (heeft|hebt) {_WHO} toegevoegd$"),
    ("removed", rf"^(?P<actor>.+?) removed {_WHO}$"),
    ("removed", rf"^(?P<actor>.+?) (heeft|hebt) {_WHO} verwijderd$"),
    ("left", rf"^{_WHO} (left|is vertrokken|heeft de groep verlaten)$"),
    ("joined", rf"^{_WHO} (joined using (this group's|a group) (invite )?link|joined from the community|"
               r"neemt deel via de uitnodigingslink( van deze groep)?|is lid geworden via (de|een) "
               r"uitnodigingslink)$"),
    ("number", r"(changed their phone number|changed to \+?[\d ]+$|heeft een nieuw telefoonnummer|"
               r"is gewijzigd in \+?[\d ]+$|security code with .+ changed|beveiligingscode (met|van) "
               r".+ (is )?gewijzigd)"),
    ("admin_rights", r"(you're now an admin|you are now an admin|je bent nu (een )?beheerder|"
                     r"is now an admin|is nu (een )?beheerder)$"),
    ("deleted", r"^(this message was deleted|you deleted this message|dit bericht is verwijderd|"
                r"je hebt dit bericht verwijderd)\.?$"),
    ("media", r"^(<media omitted>|<media weggelaten>|(image|video|audio|sticker|gif|document|"
              r"contact card|afbeelding|contactkaart) (omitted|weggelaten)|<attached: .+>|"
              r".+\.(jpg|jpeg|png|webp|mp4|opus|pdf|vcf) \((file attached|bestand bijgevoegd)\))"),
))
AUTHORED_SYSTEM = ("media", "deleted")   # system lines a member "posts"
NOT_MESSAGES = (*dict.fromkeys(kind for kind, _ in SYSTEM), "other")   # "other": unknown system line


class ChatImportError(ValueError):
    """Bad input: a one-line reason that names no person and quotes no message."""


@dataclass(frozen=True)
class Line:
    """One entry of the export: a message, or a system line (``system`` says which kind)."""

    number: int                  # line number in the export (1-based), for error messages
    time: datetime
    author: str | None           # pseudonym of who posted it; None for a system line without one
    system: str | None = None    # None for a message; else one of NOT_MESSAGES
    actor: str | None = None     # system lines: pseudonym of who added/removed/created
    who: tuple[str, ...] = ()    # system lines: pseudonyms of the members it is about
    text: str = field(default="", repr=False)   # in memory only; never written


@dataclass(frozen=True)
class Export:
    lines: tuple[Line, ...]
    header_format: str           # whatstk's hformat, e.g. '[%d-%m-%y %H:%M:%S] %name:'
    platform: str                # android | ios

    @property
    def messages(self) -> tuple[Line, ...]:
        return tuple(line for line in self.lines if line.system is None)

    @property
    def members(self) -> set[str]:
        """Everyone the export shows: authors and members named in system lines."""
        return {x for line in self.lines for x in (line.author, line.actor, *line.who)
                if x is not None}


def read_text(path: Path) -> str:
    """The export's text: a ``.txt`` file, or the one chat ``.txt`` inside a ``.zip`` (media ignored)."""
    path = Path(path)
    if not path.is_file():
        raise ChatImportError(f"{path}: no such file")
    if path.suffix.lower() == ".zip":
        try:
            with zipfile.ZipFile(path) as z:
                chats = [m for m in z.infolist() if m.filename.lower().endswith(".txt") and not m.is_dir()]
                if len(chats) != 1:
                    raise ChatImportError(f"{path}: a WhatsApp .zip export holds one chat .txt; "
                                          f"this one holds {len(chats)}")
                if chats[0].file_size > MAX_BYTES:
                    raise ChatImportError(f"{path}: the chat is larger than {MAX_BYTES // 2**20} MB")
                with z.open(chats[0]) as f:
                    raw = f.read(MAX_BYTES + 1)
        except zipfile.BadZipFile:
            raise ChatImportError(f"{path}: not a readable .zip file") from None
    else:
        if path.stat().st_size > MAX_BYTES:
            raise ChatImportError(f"{path}: larger than {MAX_BYTES // 2**20} MB: not a chat export")
        raw = path.read_bytes()
    try:
        return raw.decode("utf-8-sig")
    except UnicodeDecodeError as err:
        raise ChatImportError(f"{path}: not UTF-8 text (byte {err.start}): not a WhatsApp export") from None


def parse_file(path: Path) -> Export:
    return parse(read_text(path))


@contextmanager
def _whatstk_silenced():
    """whatstk logs (at INFO/DEBUG, on the root logger) headers it inspects: they hold names."""
    previous = logging.root.manager.disable
    logging.disable(logging.INFO)
    try:
        yield
    finally:
        logging.disable(previous)


def parse(text: str) -> Export:
    """Parse an export's text into pseudonymised lines (see the module docstring)."""
    text = _clean_text(text.replace("\r\n", "\n").replace("\r", "\n"))
    raw_lines = text.split("\n")
    if not text.strip():
        raise ChatImportError("the export is empty")
    with _whatstk_silenced():
        hformat = extract_header_from_text(text)
    if not hformat:
        dated = next((i for i, s in enumerate(raw_lines, 1) if DATE_LIKE.match(s)), None)
        if dated is not None:
            raise ChatImportError(f"line {dated}: unknown date format (not one WhatsApp writes)")
        raise ChatImportError("not a WhatsApp export: no line starts with the date and time of a message")
    full, prefix = (re.compile(r) for r in generate_regex(hformat))
    names = _Pseudonyms()
    entries: list[dict] = []
    for number, s in enumerate(raw_lines, 1):
        head = prefix.match(s)
        if head is None:
            if DATE_LIKE.match(s):
                raise ChatImportError(f"line {number}: unknown date format (the export's other lines "
                                      f"use {hformat!r})")
            if not entries:
                if s.strip():
                    raise ChatImportError(f"line {number}: not a WhatsApp export (the first line has no "
                                          "date and time)")
                continue
            entries[-1]["text"] += "\n" + s   # a multi-line message continues
            continue
        when = _datetime(head.groupdict(), number)
        m = full.match(s)
        if m is not None and '"' not in m.group("username"):   # a quote: a subject line with a colon
            entries.append(dict(number=number, time=when, name=m.group("username"), text=s[m.end():]))
        else:   # Android system line: no "Name:" after the date
            entries.append(dict(number=number, time=when, name=None, text=s[head.end():]))
    group = _group_name(entries)
    lines = tuple(_line(e, group, names) for e in entries)
    return Export(lines, hformat, "ios" if hformat.startswith("[") else "android")


def _datetime(g: dict, number: int) -> datetime:
    hour, ampm = int(g["hour"]), g.get("ampm")
    if ampm is not None:
        pm = ampm.lower().startswith("p")
        hour = (hour % 12) + (12 if pm else 0)
    year = int(g["year"]) + (2000 if len(g["year"]) == 2 else 0)
    try:
        return datetime(year, int(g["month"]), int(g["day"]), hour, int(g["minutes"]), int(g.get("seconds") or 0))
    except ValueError:
        raise ChatImportError(f"line {number}: unknown date format (no such date or time)") from None


def _system_kind(body: str) -> str | None:
    body = body.strip()
    for kind, rx in SYSTEM:
        if rx.search(body):
            return kind
    return None


def _group_name(entries: list[dict]) -> str | None:
    """iOS writes system lines as if the group posted them: the author of the encryption notice."""
    return next((e["name"] for e in entries if e["name"] is not None
                 and _system_kind(e["text"]) in ("encryption", "created")), None)


def _line(e: dict, group: str | None, names: "_Pseudonyms") -> Line:
    text = EDITED.sub("", e["text"]).strip()
    if e["name"] is None or e["name"] == group:
        kind = _system_kind(text) or "other"
        author = None
    else:
        author = names.of(e["name"])
        kind = _system_kind(text)
        if kind not in AUTHORED_SYSTEM:
            return Line(e["number"], e["time"], author, text=text)
    actor, who = None, ()
    m = next((m for k, rx in SYSTEM if k == kind and (m := rx.search(text))), None)
    if m is not None:
        gd = m.groupdict()
        actor = names.of(gd["actor"]) if gd.get("actor") else None
        who = tuple(names.of(w) for w in _AND.split(gd["who"]) if w.strip()) if gd.get("who") else ()
    return Line(e["number"], e["time"], author, kind, actor, who)


class _Pseudonyms:
    """Names and phone numbers to ``member_01``, ``member_02`` ... in order of first appearance."""

    def __init__(self):
        self._ids: dict[str, str] = {}

    def of(self, name: str) -> str:
        key = name.strip().strip("~").strip()
        if key.lower() in YOU:
            return EXPORTER
        if re.fullmatch(r"\+?[\d\s().-]{6,}", key):
            key = re.sub(r"\D", "", key)   # one number written two ways is one member
        if key not in self._ids:
            self._ids[key] = f"member_{len(self._ids) + 1:02d}"
        return self._ids[key]
