"""docs/odd.md: the generated tables match the code, and the ODD structure is complete."""

import importlib.util
import re
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
ODD = ROOT / "docs" / "odd.md"


def _load_make_tables():
    spec = importlib.util.spec_from_file_location("docs_make_tables", ROOT / "docs" / "make_tables.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


make_tables = _load_make_tables()

# The ODD protocol (Grimm et al. 2006/2010/2020): three blocks and their elements, plus the
# project's own required sections.
ODD_HEADINGS = [
    "Overview", "Purpose and patterns", "Entities, state variables and scales",
    "Process overview and scheduling",
    "Design concepts", "Basic principles", "Emergence", "Adaptation", "Objectives", "Learning",
    "Prediction", "Sensing", "Interaction", "Stochasticity", "Collectives", "Observation",
    "Details", "Initialization", "Input data", "Submodels",
    "Parameters", "Scenarios", "Outcomes", "Simplifications and known limits",
]


def _headings(text: str) -> list[str]:
    """Heading texts without '#' and without a leading section number ('3. ', '7.1 ')."""
    return [re.sub(r"^[\d.]+\s+", "", m.group(1).strip())
            for m in re.finditer(r"^#{1,6}\s+(.+)$", text, re.MULTILINE)]


@pytest.mark.parametrize("table", sorted(make_tables.TABLES))
def test_generated_table_is_up_to_date(table):
    current = make_tables.extract(ODD.read_text(encoding="utf-8"), table)
    assert current is not None, f"docs/odd.md lacks the markers <!-- {table}:begin --> / <!-- {table}:end -->"
    expected = make_tables.TABLES[table]() + "\n"
    assert current == expected, (
        f"the {table} table in docs/odd.md differs from the code: run `{make_tables.REGENERATE}` "
        "and commit docs/odd.md")


def test_render_changes_nothing():
    text = ODD.read_text(encoding="utf-8")
    assert make_tables.render(text) == text, f"docs/odd.md is out of date: run `{make_tables.REGENERATE}`"


def test_odd_has_every_section():
    headings = _headings(ODD.read_text(encoding="utf-8"))
    missing = [h for h in ODD_HEADINGS if h not in headings]
    assert not missing, f"docs/odd.md lacks the ODD section(s) {missing}"


def test_every_parameter_and_outcome_is_in_the_tables():
    import sim
    text = ODD.read_text(encoding="utf-8")
    params = make_tables.extract(text, "params")
    outcomes = make_tables.extract(text, "outcomes")
    for row in sim.provenance_table():
        assert f"| `{row['name']}` |" in params, row["name"]
    for name in sim.OUTCOME_NAMES:
        assert f"| `{name}` |" in outcomes, name


def test_render_replaces_only_between_markers():
    text = "intro\n" + "".join(f"<!-- {t}:begin -->\nSTALE-TABLE\n<!-- {t}:end -->\nkeep {t}\n"
                               for t in make_tables.TABLES)
    out = make_tables.render(text)
    assert out.startswith("intro\n") and "STALE-TABLE" not in out
    for t in make_tables.TABLES:
        assert f"keep {t}\n" in out
        assert make_tables.extract(out, t) == make_tables.TABLES[t]() + "\n"
    with pytest.raises(ValueError, match="params:begin"):
        make_tables.render("no markers here")
