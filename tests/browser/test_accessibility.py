"""Accessibility and layout of the key pages, officials' and back office's: axe-core
(pinned in package.json, loaded from node_modules) finds no critical or serious
violation at 1366 or 375 px; at 375 px no official page scrolls sideways; every page
is photographed at both widths into XUEFA_SCREENSHOTS_DIR (artifacts/screenshots/)
for review, with the axe findings beside them (axe_findings.md).

The demo organisation is loaded and every page visited once, by the first test that
needs it; each test then checks one page of that scan."""

import os
import shutil
import subprocess
from pathlib import Path

from django.utils import timezone

import pytest

from .conftest import sign_in

pytestmark = [
    pytest.mark.browser,
    pytest.mark.django_db(transaction=True, serialized_rollback=True),
]

ROOT = Path(__file__).resolve().parents[2]
AXE = ROOT / "node_modules" / "axe-core" / "axe.min.js"
SCREENSHOTS = Path(os.environ.get("XUEFA_SCREENSHOTS_DIR", ROOT / "artifacts" / "screenshots"))
WIDE, NARROW = {"width": 1366, "height": 900}, {"width": 375, "height": 812}
BLOCKING = ("critical", "serious")

# (name, who, path): a path None is reached by clicking (the exam's pages).
OFFICIAL_PAGES = [
    ("login", None, "/accounts/login/"),
    ("dashboard", "official", "/"),
    ("lecture_index", "official", "/lectures/"),
    ("lecture", "official", "/lectures/administrative-licensing-law/"),
    ("exam_list", "official", "/exams/"),
    ("exam_session", "official", None),
    ("attempt", "official", None),
    ("result", "official", None),
    ("notebook", "official", "/exams/notebook/"),
    ("record", "official", "/me/record/"),
    ("observations", "official", "/observations/"),
    ("briefing", "official", "/briefings/secrecy/"),
    ("case", "official", "/lectures/以案释法政府信息公开答复案/"),
]
ADMIN_PAGES = [
    ("admin_home_organizer", "organizer", "/admin/"),
    ("marking_queue", "organizer", "/admin/marking/"),
    ("admin_home_hr", "hr", "/admin/"),
    ("completion_report", "hr", "/admin/reports/completion/"),
    ("briefing_report", "hr", "/admin/briefings/"),
]

# Pages with a known critical or serious finding still to fix, by name: their check is
# expected to fail (xfail, strict: it fails again once the finding is gone, so that the
# entry is removed). None at present.
KNOWN = {}

# How to fix what axe finds most often, for the findings list; axe's own summary
# stands in for the others.
HINTS = {
    "scrollable-region-focusable": "give the scrolling box tabindex=0, role=region and an "
    "aria-label (or make its overflow visible)",
    "color-contrast": "darken the text or lighten its background to at least 4.5:1 "
    "(3:1 for large text)",
    "link-name": "give the link text, or an aria-label for an icon-only link",
    "button-name": "give the button text, or an aria-label for an icon-only button",
    "label": "tie a <label for> to the control, or give it an aria-label",
    "image-alt": "give the image an alt (alt='' when it is decorative)",
    "aria-progressbar-name": "give the progress bar an aria-label or aria-labelledby",
    "nested-interactive": "do not put a link or button inside another",
    "list": "a <ul>/<ol> may hold only <li> (and script/template)",
    "listitem": "put the <li> inside a <ul> or <ol>",
}

_scan = {}


@pytest.fixture(scope="session")
def axe_script():
    """axe-core from node_modules, installed with `npm ci` (package-lock.json) when
    missing. Without it the tests skip, except under CI=true, where they fail."""
    if not AXE.exists() and shutil.which("npm"):
        subprocess.run(  # noqa: S603
            [shutil.which("npm"), "ci", "--no-audit", "--no-fund"],
            cwd=ROOT,
            check=False,
            capture_output=True,
        )
    if not AXE.exists():
        reason = (
            f"No {AXE.relative_to(ROOT)}: run `npm ci` (Node.js and npm) at the repository root."
        )
        if os.environ.get("CI") == "true":
            pytest.fail(reason, pytrace=False)
        pytest.skip(reason)
    return AXE


def run_axe(page, script):
    page.add_script_tag(path=str(script))
    return page.evaluate(
        """async () => {
            const result = await axe.run(document, {resultTypes: ["violations"]});
            return result.violations.map(v => ({
                id: v.id, impact: v.impact, help: v.help,
                nodes: v.nodes.map(n => ({
                    target: n.target.join(" "),
                    hint: (n.failureSummary || "").split("\\n").slice(1, 2).join("").trim(),
                })),
            }));
        }"""
    )


def look_at(page, name, script, *, official):
    """axe and a screenshot at 1366 and at 375 px; at 375 px, the sideways scroll."""
    violations = {}
    for size in (WIDE, NARROW):
        page.set_viewport_size(size)
        if size is NARROW:
            page.reload()
        page.wait_for_load_state("networkidle")
        widths = page.evaluate("() => [document.documentElement.scrollWidth, window.innerWidth]")
        for violation in run_axe(page, script):
            if violation["impact"] in BLOCKING:
                known = violations.setdefault(violation["id"], {**violation, "nodes": []})
                seen = {node["target"] for node in known["nodes"]}
                known["nodes"] += [n for n in violation["nodes"] if n["target"] not in seen]
        page.screenshot(path=str(SCREENSHOTS / f"{name}-{size['width']}.png"), full_page=True)
    return {
        "url": page.url,
        "violations": list(violations.values()),
        "widths": widths,
        "official": official,
    }


def new_page(browser, live_server, who):
    """A page of its own browser context; CSP bypassed so that axe can be injected
    (the other browser tests enforce the policy)."""
    context = browser.new_context(bypass_csp=True, locale="zh-CN", timezone_id="Asia/Shanghai")
    page = context.new_page()
    if who:
        sign_in(page, live_server, who)
        page.wait_for_url(lambda url: "/accounts/login/" not in url)
    return page


def scan_official(browser, live_server, script, results):
    page = new_page(browser, live_server, None)
    page.goto(f"{live_server.url}/accounts/login/")
    results["login"] = look_at(page, "login", script, official=True)
    page.context.close()
    page = new_page(browser, live_server, "official")
    for name, who, path in OFFICIAL_PAGES:
        if who and path:
            response = page.goto(f"{live_server.url}{path}")
            assert response.status == 200, (path, response.status)
            results[name] = look_at(page, name, script, official=True)
    # The annual exam: its page, an attempt, and after handing in, the result.
    page.set_viewport_size(WIDE)
    page.goto(f"{live_server.url}/exams/")
    page.get_by_role("link", name=f"{timezone.localdate().year}年度学法用法考试").click()
    results["exam_session"] = look_at(page, "exam_session", script, official=True)
    page.set_viewport_size(WIDE)
    page.get_by_role("button", name="开始考试").click()
    page.wait_for_selector("#attempt-form")
    results["attempt"] = look_at(page, "attempt", script, official=True)
    page.locator("fieldset.question input[type=radio]").first.check()
    page.once("dialog", lambda dialog: dialog.accept())
    page.get_by_role("button", name="交卷").click()
    page.wait_for_url("**/result/")
    results["result"] = look_at(page, "result", script, official=True)
    page.context.close()


def scan_admin(browser, live_server, script, results):
    for who in ("organizer", "hr"):
        page = new_page(browser, live_server, who)
        for name, role, path in ADMIN_PAGES:
            if role == who:
                response = page.goto(f"{live_server.url}{path}")
                assert response.status == 200, (path, response.status)
                results[name] = look_at(page, name, script, official=False)
        page.context.close()


def write_findings(results):
    """Every blocking finding, page by page, as a list a person can work through."""
    lines = ["# axe findings (critical and serious), from tests/browser/test_accessibility.py", ""]
    for name, result in results.items():
        for violation in result["violations"]:
            for node in violation["nodes"]:
                lines.append(
                    f"- **{name}** ({result['url'].split('//', 1)[-1].split('/', 1)[-1] or '/'}) "
                    f"`{violation['id']}` [{violation['impact']}] `{node['target']}` — "
                    f"{violation['help']}. Fix: {HINTS.get(violation['id'], node['hint'])}"
                )
    if len(lines) == 2:
        lines.append("None.")
    (SCREENSHOTS / "axe_findings.md").write_text("\n".join(lines) + "\n")


@pytest.fixture
def scan(request, browser, live_server, axe_script):
    """Every key page looked at once (the first test to ask loads the demo data)."""
    if "error" in _scan:
        pytest.fail(f"The scan of the key pages failed: {_scan['error']}", pytrace=False)
    if not _scan:
        request.getfixturevalue("demo_data")
        SCREENSHOTS.mkdir(parents=True, exist_ok=True)
        results = {}
        try:
            scan_official(browser, live_server, axe_script, results)
            scan_admin(browser, live_server, axe_script, results)
        except Exception as error:
            _scan["error"] = repr(error)  # the other checks fail at once, not scan again
            raise
        write_findings(results)
        _scan.update(results)
    return _scan


def page_params(pages):
    params = []
    for name, _, _ in pages:
        marks = [pytest.mark.xfail(strict=True, reason=KNOWN[name])] if name in KNOWN else []
        params.append(pytest.param(name, marks=marks, id=name))
    return params


def describe(violations):
    return "\n".join(
        f"{v['id']} [{v['impact']}] {node['target']}: {v['help']}"
        for v in violations
        for node in v["nodes"]
    )


@pytest.mark.parametrize("name", page_params(OFFICIAL_PAGES + ADMIN_PAGES))
def test_axe_finds_no_critical_or_serious_violation(scan, name):
    violations = scan[name]["violations"]
    assert violations == [], describe(violations)


@pytest.mark.parametrize("name", [n for n, _, _ in OFFICIAL_PAGES])
def test_official_page_does_not_scroll_sideways_at_375_px(scan, name):
    scroll_width, inner_width = scan[name]["widths"]
    assert scroll_width <= inner_width, f"{scan[name]['url']}: {scroll_width}px wide"


def test_screenshots_of_every_page_at_both_widths(scan):
    for name in scan:
        for width in (1366, 375):
            assert (SCREENSHOTS / f"{name}-{width}.png").stat().st_size > 0
