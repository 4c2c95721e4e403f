"""Every main page under the Content Security Policy: no violation, no console error."""

from __future__ import annotations

import datetime as dt

import pytest

from accounts.roles import Role
from analytics import services
from demo.loader import demo_load
from demo.synthetic import generate
from tests.browser.second_factor import code_of, sign_in_with_code
from tests.factories import enrol, give_authenticator, make_user

pytestmark = pytest.mark.django_db(transaction=True)

# Collects what the browser reports through the DOM event as well as through the console.
REPORT_VIOLATIONS = """
window.__violations = [];
document.addEventListener('securitypolicyviolation', (event) => {
  const where = `${event.sourceFile}:${event.lineNumber}`;
  window.__violations.push(`${event.violatedDirective} ${event.blockedURI} ${where}`);
});
"""


class Watcher:
    """Listen to a page's console and errors; check each visited page."""

    def __init__(self, page) -> None:
        self.page = page
        self.problems: list[str] = []
        page.add_init_script(REPORT_VIOLATIONS)
        page.on("console", self._console)
        page.on("pageerror", lambda error: self.problems.append(f"page error: {error}"))
        page.on("response", self._response)

    def _response(self, response) -> None:
        if response.status >= 400:
            self.problems.append(f"{response.status} for {response.url}")

    def _console(self, message) -> None:
        if message.location.get("url", "").endswith("/favicon.ico"):
            return  # asked by the browser itself on pages without an icon (admin, dictionary)
        if message.type == "error" or "Content Security Policy" in message.text:
            self.problems.append(f"{self.page.url}: console {message.type}: {message.text}")

    def visit(self, url: str, ready: str = "main") -> None:
        response = self.page.goto(url)
        assert response is not None
        assert response.ok, f"{url}: {response.status}"
        assert "default-src 'self'" in response.headers["content-security-policy"]
        self.page.wait_for_selector(ready)
        self.check(url)

    def check(self, where: str) -> None:
        self.page.wait_for_load_state("networkidle")
        violations = self.page.evaluate("window.__violations || []")
        self.problems.extend(f"{where}: violation {v}" for v in violations)
        assert self.problems == [], "\n".join(self.problems)


@pytest.fixture
def analysed_cohort(transactional_db, settings):
    settings.ANALYSIS_PARAMETERS = {"n_boot": 100, "trajectory_groups": [1, 2, 3], "seed": 1}
    settings.ANALYSIS_QUEUE = "tests-not-consumed"
    demo_load(generate(80, seed=2))
    run = services.reanalysis_schedule(trigger="manual", delay=0, dispatch=False)
    return services.run_execute(run_id=run.pk).run


@pytest.fixture
def followed_patient(site_a, nurse_site_a, today):
    start = today - dt.timedelta(days=7)
    return enrol(site_a, by=nurse_site_a, inclusion_date=start, consent_date=start)


def test_nurse_pages_pass_the_policy(
    live_server, new_page, sign_in, nurse_site_a, followed_patient
):
    page = new_page()
    watcher = Watcher(page)
    watcher.visit(f"{live_server.url}/accounts/login/", "#id_username")
    sign_in(page, "nurse_a")
    watcher.check("home")
    watcher.visit(f"{live_server.url}/calls/")
    call = followed_patient.calls.get(timepoint="W1")
    watcher.visit(f"{live_server.url}/calls/{call.pk}/", "#scores")
    # Answers update the live scores through htmx. Each answer waits for its scores: a newer
    # answer cancels the request still running (hx-sync replace), which htmx logs as an error.
    for answer in ("#id_outcome_0", "#id_hads_2_3"):
        with page.expect_response(lambda response: "/scores/" in response.url):
            page.check(answer, force=True)
    page.locator("#scores").get_by_text("HADS 1/14").wait_for()
    watcher.check("call entry after htmx")
    watcher.visit(f"{live_server.url}/patients/{followed_patient.pk}/")
    watcher.visit(f"{live_server.url}/patients/new/")
    page.select_option("#id_patient-etiology", "fibromyalgia")
    watcher.check("enrolment after a choice")
    watcher.visit(f"{live_server.url}/accounts/security/")
    watcher.visit(f"{live_server.url}/accounts/password/")


def test_analysis_and_export_pages_pass_the_policy(analysed_cohort, live_server, new_page):
    user = make_user("dm_csp", Role.DATA_MANAGER, [])
    device = give_authenticator(user)
    page = new_page()
    watcher = Watcher(page)
    sign_in_with_code(page, live_server, "dm_csp", code_of(device))
    watcher.check("home")
    watcher.visit(f"{live_server.url}/analysis/", "#chart-trajectories .main-svg")
    assert page.locator(".js-plotly-plot").count() == 9
    # Hovering draws plotly's tooltips and spike lines, which set styles too.
    page.hover("#chart-figure2 .nsewdrag")
    watcher.check("dashboard after hover")
    watcher.visit(f"{live_server.url}/analysis/runs/")
    watcher.visit(f"{live_server.url}/analysis/runs/{analysed_cohort.pk}/")
    watcher.visit(f"{live_server.url}/exports/")
    watcher.visit(f"{live_server.url}/exports/dictionary.html", "table")
    watcher.visit(f"{live_server.url}/accounts/security/")
    watcher.visit(f"{live_server.url}/admin/", "#content")
