"""The dashboard in a real headless Chromium against a real `modelport serve` on loopback."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import pytest

from tests.http.ui.conftest import XSS_DESCRIPTION, XSS_PARAM, XSS_TAG, Dashboard
from tests.monitoring.test_cli_and_report import chromium_or_skip

pytestmark = pytest.mark.slow


@contextmanager
def chromium(*, bypass_csp: bool = False) -> Iterator[Any]:
    """A fresh browser context; `problems` collects console errors, page errors and failed requests."""
    executable = chromium_or_skip()
    from playwright.sync_api import sync_playwright

    with sync_playwright() as driver:
        browser = driver.chromium.launch(executable_path=executable, args=["--headless", "--no-sandbox", "--disable-gpu"])
        try:
            context = browser.new_context(bypass_csp=bypass_csp, viewport={"width": 1300, "height": 900})
            page = context.new_page()
            page.problems = []
            page.on("console", lambda msg: page.problems.append(msg.text) if msg.type == "error" else None)
            page.on("pageerror", lambda error: page.problems.append(str(error)))
            page.on("requestfailed", lambda request: page.problems.append(request.url))
            yield page
        finally:
            browser.close()


def visit(page: Any, url: str, route: str = "#/") -> None:
    """Open a dashboard page and wait until it has rendered (the view names the page it shows)."""
    page.goto(f"{url}/ui/{route}")
    page.wait_for_selector(f'main[data-rendered="{route}"]')


def confirm(page: Any, accept: bool = True) -> None:
    page.wait_for_selector("dialog#confirm[open]")
    page.click("#confirm-ok" if accept else "#confirm-cancel")


def test_pages_show_what_the_api_holds(open_dashboard: Dashboard) -> None:
    versions = open_dashboard.api("/models/cancer")["versions"]
    drift = open_dashboard.api("/monitoring/cancer/drift?window=1h")
    with chromium() as page:
        visit(page, open_dashboard.url)
        row = page.locator("#models tbody tr").filter(has_text="cancer")
        assert row.count() == 1
        text = row.inner_text()
        assert "champion=1" in text and "v1 90%" in text and "v2 10%" in text and "canary running" in text

        visit(page, open_dashboard.url, "#/models/cancer")
        assert page.locator("#versions tbody tr").count() == 2
        digest = versions[1]["artifact"]["digest"]
        assert page.locator(f'#versions code[title="{digest}"]').count() == 1
        assert f"accuracy={versions[1]['metrics']['accuracy']:.4g}" in page.locator("#versions").inner_text()
        assert "code_revision=" in page.locator("#versions").inner_text()
        assert page.locator('.traffic-entry[data-version="2"]').inner_text() == "version 2: 10%"
        assert "start" in page.locator("#decisions").inner_text() and "error_rate" in page.locator("#checks").inner_text()
        assert "— → 1" in page.locator("#aliases").inner_text()

        visit(page, open_dashboard.url, "#/models/cancer/monitoring?window=1h")
        assert page.locator("#drift tbody tr").count() == len(drift["features"])
        drifted = page.locator("#drift tbody tr").filter(has_text="drifted").count()
        assert drifted == sum(f["drifted"] for f in drift["features"])
        assert page.locator("#drift-charts svg rect").count() > 20
        assert page.locator("#performance tbody tr").filter(has_text="all versions").first.inner_text().split("\t")[1] == "150"
        assert page.locator("#health tbody tr").first.inner_text().split("\t")[1] == "150"
        page.select_option("#window", "15m")
        page.wait_for_selector('main[data-rendered="#/models/cancer/monitoring?window=15m"]')

        visit(page, open_dashboard.url, "#/alerts")
        assert "error-spike" in page.locator("#firing").inner_text() and "fired" in page.locator("#alert-history").inner_text()
        visit(page, open_dashboard.url, "#/audit")
        assert "rollout.start" in page.locator("#audit").inner_text()
        assert page.problems == []


@pytest.mark.parametrize("bypass_csp", [False, True], ids=["with-csp", "without-csp"])
def test_registry_strings_are_shown_as_text_and_never_run(open_dashboard: Dashboard, bypass_csp: bool) -> None:
    # Without the CSP too: escaping alone must hold, the policy is the second wall.
    with chromium(bypass_csp=bypass_csp) as page:
        for route in ("#/", "#/models/cancer"):
            visit(page, open_dashboard.url, route)
            shown = page.locator("main").inner_text()
            assert XSS_DESCRIPTION in shown and XSS_TAG in shown
            if route != "#/":
                assert XSS_PARAM in shown
            assert page.locator("main img, main script, main [onerror], main [onload]").count() == 0
            assert page.evaluate("typeof window.__xss") == "undefined"


def test_alias_move_and_rollout_promote_end_to_end(open_dashboard: Dashboard) -> None:
    with chromium() as page:
        visit(page, open_dashboard.url, "#/models/cancer")
        page.fill("#alias-name", "champion")
        page.select_option("#alias-version", "2")
        page.click("#alias-form button[type=submit]")
        confirm(page, accept=False)
        assert open_dashboard.api("/models/cancer/aliases/champion")["version"] == 1
        page.click("#alias-form button[type=submit]")
        confirm(page)
        page.wait_for_selector("#notice.ok")
        assert page.locator("#notice").inner_text() == "alias champion now points at version 2"
        assert open_dashboard.api("/models/cancer/aliases/champion")["version"] == 2

        page.click("#promote")
        confirm(page)
        page.wait_for_selector("#notice.ok")
        status = open_dashboard.api("/rollouts/cancer")
        assert status["state"] == "promoted" and status["traffic"] == {"2": 100.0}
        page.locator(".traffic-entry").filter(has_text="version 2: 100%").wait_for()
        assert page.problems == []


def test_keys_asked_for_checked_and_scoped(keyed_dashboard: Dashboard) -> None:
    with chromium() as page:
        visit(page, keyed_dashboard.url)
        assert page.locator("#key-form").is_visible() and page.locator("#key-form .error").count() == 0
        page.fill("#api-key", "mp_not-a-real-key")
        page.click("#key-form button")
        page.wait_for_selector("#key-form .error")
        assert "This key was not accepted" in page.locator("#key-form .error").inner_text()

        page.fill("#api-key", keyed_dashboard.tokens["read"])
        page.click("#key-form button")
        page.wait_for_selector('main[data-rendered="#/"] #models')
        assert "cancer" in page.locator("#models").inner_text()
        assert page.evaluate("sessionStorage.getItem('modelport.apiKey')") == keyed_dashboard.tokens["read"]

        visit(page, keyed_dashboard.url, "#/models/cancer")
        page.click("#promote")
        confirm(page)
        page.wait_for_selector("#notice.bad")
        refused = page.locator("#notice").inner_text()
        assert refused.startswith("Not allowed:") and "manage" in refused
        assert keyed_dashboard.api("/rollouts/cancer", keyed_dashboard.tokens["read"])["state"] == "running"

        visit(page, keyed_dashboard.url, "#/audit")
        assert "Could not load this page" in page.locator("main").inner_text()
        assert "admin" in page.locator("main .error").inner_text()

        page.click("#forget")
        page.wait_for_selector("#key-form")
        assert page.evaluate("sessionStorage.getItem('modelport.apiKey')") is None
