"""The workshop app end to end: a real solara server and Debian's Chromium driven by Playwright.

The browser may only talk to the local server (every other request is blocked and recorded), so a
pass also shows that the page works offline. Screenshots and step timings go to results/screenshots/. Every check waits for its condition
(Playwright's ``expect`` and ``wait_for``), never for a fixed time, and reads nothing the server may
still be updating; the step timing is recorded, not asserted (speed is a benchmark's job).
"""

import json
import os
import re
import shutil
import socket
import statistics
import subprocess
import sys
import time
from pathlib import Path

import pytest
from playwright import sync_api
from playwright.sync_api import expect

ROOT = Path(__file__).resolve().parent.parent
pytestmark = pytest.mark.xdist_group("browser")  # one worker starts the app server and chromium once
SHOTS = ROOT / "results" / "screenshots"
CHROMIUM_ARGS = ["--no-sandbox", "--disable-background-networking", "--disable-gpu",
                 "--disable-component-update", "--disable-sync", "--no-first-run"]


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture(scope="module")
def server():
    port = _free_port()
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(ROOT), os.environ.get("PYTHONPATH", "")]),
           "SOLARA_TELEMETRY_MIXPANEL_ENABLE": "False", "PYTHONWARNINGS": "ignore"}
    SHOTS.mkdir(parents=True, exist_ok=True)
    log = open(SHOTS.parent / "app_server.log", "w")
    proc = subprocess.Popen([sys.executable, "-m", "solara", "run", "workshop/app.py", "--host", "127.0.0.1",
                             "--port", str(port), "--production"], cwd=ROOT, env=env, stdout=log,
                            stderr=subprocess.STDOUT)
    deadline = time.monotonic() + 180  # a loaded machine takes long to import solara, mesa and hydra
    while True:
        if proc.poll() is not None:
            log.close()
            pytest.fail(f"solara server exited with code {proc.returncode}; see results/app_server.log")
        try:
            socket.create_connection(("127.0.0.1", port), timeout=1).close()
            break
        except OSError:
            if time.monotonic() > deadline:
                proc.kill()
                proc.wait()
                log.close()
                pytest.fail("solara server did not start within 180 s")
            time.sleep(0.3)
    yield f"http://127.0.0.1:{port}"
    proc.terminate()
    try:
        proc.wait(timeout=10)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait()
    log.close()


@pytest.fixture(scope="module")
def browser():
    chromium = shutil.which("chromium")
    if chromium is None:
        pytest.fail("chromium not found on PATH: the browser test needs Debian's chromium (apt-get install -y chromium)")
    with sync_api.sync_playwright() as p:
        b = p.chromium.launch(executable_path=chromium, args=CHROMIUM_ARGS)
        yield b
        b.close()


@pytest.fixture
def page(server, browser):
    """A fresh page (a fresh app session) that records errors and any request leaving localhost."""
    context = browser.new_context(viewport={"width": 1400, "height": 1600})
    pg = context.new_page()
    pg.problems = []
    pg.on("console", lambda m: m.type == "error" and pg.problems.append(f"console: {m.text}"))
    pg.on("pageerror", lambda e: pg.problems.append(f"page error: {e}"))
    pg.on("response", lambda r: r.status >= 400 and pg.problems.append(f"HTTP {r.status}: {r.url}"))

    def only_local(route):
        if route.request.url.startswith(server):
            route.continue_()
        else:
            pg.problems.append(f"external request: {route.request.url}")
            route.abort()

    pg.route("**/*", only_local)
    pg.goto(server)
    pg.get_by_role("button", name="Step").wait_for(timeout=60_000)
    pg.get_by_text("dag 0 ·").first.wait_for(timeout=30_000)
    yield pg
    context.close()


def _day(pg) -> int:
    return int(re.search(r"dag (\d+) ·", pg.locator(".bs-pane").first.inner_text()).group(1))


def _step(pg) -> None:
    day = _day(pg)
    pg.get_by_role("button", name="Step").click()
    pg.get_by_text(f"dag {day + 1} ·").first.wait_for(timeout=10_000)


# Measured inside the page: from the click to the moment the DOM shows the next day (the server
# steps the model, renders, sends the changes; the browser applies them).
TIMED_STEP = """(day) => new Promise((resolve, reject) => {
    const pane = () => document.querySelector('.bs-pane').innerText;
    const start = performance.now();
    const observer = new MutationObserver(() => {
        if (pane().includes('dag ' + day + ' ·')) { observer.disconnect(); resolve(performance.now() - start); }
    });
    observer.observe(document.body, {subtree: true, childList: true, characterData: true});
    setTimeout(() => { observer.disconnect(); reject(new Error('no update within 10 s')); }, 10000);
    [...document.querySelectorAll('button')].find(b => b.textContent.trim() === 'Step').click();
})"""


def _timed_step(pg) -> float:
    """Press Step; seconds until the page shows the next day."""
    return pg.evaluate(TIMED_STEP, _day(pg) + 1) / 1000


def _press_until(pg, button: str, done, timeout_s: float = 180) -> None:
    """Press an idempotent button until ``done`` (a locator) is visible.

    Under load a click that lands while the page is still being re-rendered (just after a Reset) can
    be lost; pressing again is harmless for a button whose second press does nothing new. On failure
    the message shows what the page and the server had to say.
    """
    deadline = time.monotonic() + timeout_s
    while True:
        try:
            pg.get_by_role("button", name=button).click(timeout=20_000)  # waits while it is disabled
            done.wait_for(timeout=20_000)
            return
        except sync_api.TimeoutError:
            if time.monotonic() > deadline:
                panes = [pg.locator(".bs-pane").nth(i).inner_text()[:80] for i in range(pg.locator(".bs-pane").count())]
                summary = pg.locator(".bs-summary").all_inner_texts()
                log = (SHOTS.parent / "app_server.log").read_text(errors="replace")[-2000:]
                pytest.fail(f"pressing {button!r} for {timeout_s:.0f} s never showed {done}; panes: {panes}; "
                            f"summary: {summary}; server log ends:\n{log}")


def _choose(pg, label: str, option: str) -> None:
    pg.locator(".v-input", has_text=label).locator(".v-select__slot").click()
    pg.locator(".menuable__content__active .v-list-item", has_text=re.compile(f"^{re.escape(option)}$")).click()


def test_step_and_play_advance_time_and_the_chat_fills(page):
    times = [_timed_step(page) for _ in range(30)]
    expect(page.locator(".bs-pane").first).to_contain_text("dag 30 ·")
    page.get_by_role("button", name="▶").click()
    page.wait_for_function("() => /dag ([5-9]\\d|\\d{3,}) ·/.test(document.querySelector('.bs-pane').innerText)",
                           timeout=30_000)
    page.get_by_role("button", name="❚❚").click()
    expect(page.locator(".bs-chat .bs-msg").first).to_be_visible()  # 50 days: group messages
    expect(page.locator("svg.bs-map g.bs-households > *")).to_have_count(1000)
    expect(page.locator("svg.bs-plot")).to_have_count(4)
    SHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=SHOTS / "app_single.png", full_page=True)
    (SHOTS / "app_step_timing.json").write_text(json.dumps(
        {"households": 1000, "steps": len(times), "median_s": statistics.median(times), "max_s": max(times)}))
    assert page.problems == []


def test_scenario_change_and_reset_change_the_model(page):
    _step(page)
    _choose(page, "Regeling A / Arrangement A", "officer_in_group")
    page.get_by_role("button", name="Reset").click()
    expect(page.locator(".bs-pane", has_text="A: Wijkagent in de groep")).to_contain_text("dag 0 ·")
    page.get_by_role("button", name="EN", exact=True).click()
    page.locator(".bs-pane", has_text="A: Officer in the group").wait_for()
    expect(page.get_by_text("community officer in the group")).to_have_count(1)  # the legend's blue badge
    assert page.problems == []


def test_compare_mode_shows_two_panes_that_both_advance(page):
    """Each pane shows its own model's day, and both models and both chats move on."""
    _choose(page, "Vergelijk met B / Compare with B", "police_feedback")
    page.get_by_role("button", name="Reset").click()
    page.locator(".bs-pane", has_text="B: Terugkoppeling na elke melding").wait_for()
    panes = page.locator(".bs-pane")
    expect(panes).to_have_count(2)
    expect(page.locator("svg.bs-map")).to_have_count(2)
    chats = [panes.nth(i).locator(".bs-chat .bs-msg") for i in (0, 1)]
    for days in (10, 40):
        while _day(page) < days:
            _step(page)
        for i in (0, 1):  # pane B is re-rendered just after pane A: wait for it
            expect(panes.nth(i)).to_contain_text(f"dag {days} ·", timeout=10_000)
        if days == 10:
            before = [chat.count() for chat in chats]
    for i in (0, 1):  # the same seed and situations, so both chats get new messages
        expect(chats[i]).not_to_have_count(before[i])
        assert chats[i].count() > before[i]
    SHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=SHOTS / "app_compare.png", full_page=True)
    assert page.problems == []


def test_invalid_seed_shows_a_message_and_the_page_recovers(page):
    seed = page.locator(".v-input", has_text="Seed").locator("input")
    seed.fill("twaalf")
    seed.press("Enter")
    page.get_by_role("button", name="Reset").click()
    page.get_by_text("Ongeldige invoer").wait_for()
    expect(page.locator(".bs-pane")).to_have_count(0)
    seed.fill("12")
    seed.press("Enter")
    page.get_by_role("button", name="Reset").click()
    page.get_by_text("dag 0 ·").first.wait_for()
    _step(page)
    assert page.problems == []


def test_next_incident_one_year_and_the_compare_scorecard(page):
    page.get_by_role("button", name="Volgend incident").click()
    page.locator(".bs-summary", has_text="Na ").wait_for(timeout=30_000)
    assert _day(page) > 0 and page.locator("svg.bs-map .bs-situation").count() > 0
    _choose(page, "Vergelijk met B / Compare with B", "officer_in_group")
    page.get_by_role("button", name="Reset").click()
    page.locator(".bs-pane", has_text="B: Wijkagent in de groep").wait_for()
    _press_until(page, "Eén jaar", page.locator(".bs-summary", has_text="Na 365 dagen"))  # a second press is a no-op
    assert page.locator(".bs-scorecard table.card td[data-outcome]").count() >= 6
    SHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=SHOTS / "app_year_compare.png", full_page=True)
    assert page.problems == []
