"""Write the generated tables of docs/odd.md from the code, so that they cannot drift.

    python -m docs.make_tables            # rewrite the tables in docs/odd.md
    python -m docs.make_tables --check    # exit 1 if docs/odd.md is out of date

Each table sits between marker comments in docs/odd.md, e.g. ``<!-- params:begin -->`` and
``<!-- params:end -->``; everything between a pair is replaced, everything else is left alone.
Sources: ``sim.params.provenance_table()`` (parameters), ``sim.params.SCENARIOS`` (presets),
``sim.outcomes.OUTCOMES`` (outcomes), ``sim.outcomes.COUNTS`` and ``sim.outcomes.STATE`` (the
columns of the per-day table the outcomes are computed from).
"""

from __future__ import annotations

import re
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:  # also when run as `python docs/make_tables.py`
    sys.path.insert(0, str(ROOT))

from sim.outcomes import COUNTS, DAYS_PER_MONTH, OUTCOMES, STATE  # noqa: E402
from sim.params import SCENARIOS, provenance_table  # noqa: E402

ODD = ROOT / "docs" / "odd.md"
REGENERATE = "python -m docs.make_tables"


def _cell(value: object) -> str:
    """Text for one Markdown table cell (pipes escaped, no line breaks)."""
    return str(value).replace("|", r"\|").replace("\n", " ")


def _table(header: list[str], rows: list[list[object]]) -> str:
    lines = ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
    lines += ["| " + " | ".join(_cell(v) for v in row) + " |" for row in rows]
    return "\n".join(lines)


def _range(allowed: tuple) -> str:
    if len(allowed) == 2 and all(isinstance(v, (int, float)) and not isinstance(v, bool) for v in allowed):
        return f"[{allowed[0]}, {allowed[1]}]"
    return " / ".join(str(v) for v in allowed)


def params_table() -> str:
    """Every parameter: name, default, allowed range, meaning, source (provenance)."""
    return _table(["parameter", "default", "range", "meaning", "source"],
                  [[f"`{r['name']}`", r["default"], _range(r["range"]), r["doc"], r["source"]]
                   for r in provenance_table()])


def scenarios_table() -> str:
    """Every scenario preset with what it changes relative to the baseline."""
    def changes(overrides: dict) -> str:
        return ", ".join(f"`{k}` = {v}" for k, v in overrides.items()) or "nothing (the defaults)"
    return _table(["scenario", "changes"], [[f"`{name}`", changes(o)] for name, o in SCENARIOS.items()])


def computation(compute) -> str:
    """How an outcome is computed from the per-day table, read off its compute function."""
    maker = compute.__qualname__.split(".")[0]
    cells = dict(zip(compute.__code__.co_freevars, (c.cell_contents for c in compute.__closure__ or ())))
    cols = [f"`{c}`" for c in cells.values() if isinstance(c, str)]
    if maker == "_ratio" and {"num", "den"} <= set(cells):
        return f"Σ `{cells['num']}` / Σ `{cells['den']}`"
    if maker == "_mean_of" and len(cols) == 1:
        return f"mean over days of {cols[0]}"
    if maker == "_total" and len(cols) == 1:
        return f"Σ {cols[0]}"
    if maker == "_per_month" and len(cols) == 1:
        return f"Σ {cols[0]} / (days / {DAYS_PER_MONTH})"
    consts = [x for c in compute.__code__.co_consts for x in (c if isinstance(c, tuple) else (c,))]
    used = [c for c in consts if isinstance(c, str) and (c in COUNTS or c in STATE)]
    return f"`{compute.__name__}` (sim/outcomes.py) from " + ", ".join(f"`{c}`" for c in dict.fromkeys(used))


def outcomes_table() -> str:
    """Every outcome of a run: name, headline group, definition, computation (Σ = sum over days)."""
    return _table(["outcome", "headline", "definition", "computed from the per-day table"],
                  [[f"`{o.name}`", o.headline or "other", o.doc, computation(o.compute)] for o in OUTCOMES])


def counts_table() -> str:
    """The event counts recorded per day (columns of the per-day table)."""
    return _table(["count (per day)", "definition"], [[f"`{k}`", v] for k, v in COUNTS.items()])


def state_table() -> str:
    """The resident-state snapshots recorded at the end of each day."""
    return _table(["state (end of day)", "definition"], [[f"`{k}`", v] for k, v in STATE.items()])


TABLES = {
    "params": params_table,
    "scenarios": scenarios_table,
    "outcomes": outcomes_table,
    "counts": counts_table,
    "state": state_table,
}


def _block(name: str) -> re.Pattern:
    return re.compile(rf"(<!-- {name}:begin -->\n)(.*?)(<!-- {name}:end -->)", re.DOTALL)


def extract(text: str, name: str) -> str | None:
    """The text between the markers of table ``name`` (without the markers), or None."""
    m = _block(name).search(text)
    return None if m is None else m.group(2)


def render(text: str) -> str:
    """``text`` with every generated table replaced by what the code gives now."""
    for name, make in TABLES.items():
        pattern = _block(name)
        if not pattern.search(text):
            raise ValueError(f"docs/odd.md lacks the markers <!-- {name}:begin --> / <!-- {name}:end -->")
        body = make() + "\n"
        text = pattern.sub(lambda m, body=body: m.group(1) + body + m.group(3), text, count=1)
    return text


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    old = ODD.read_text(encoding="utf-8")
    new = render(old)
    if "--check" in argv:
        if new != old:
            print(f"docs/odd.md is out of date: run `{REGENERATE}`", file=sys.stderr)
            return 1
        return 0
    if new != old:
        ODD.write_text(new, encoding="utf-8")
        print("docs/odd.md: tables updated")
    else:
        print("docs/odd.md: tables already up to date")
    return 0


if __name__ == "__main__":
    sys.exit(main())
