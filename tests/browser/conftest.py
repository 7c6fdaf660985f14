"""Browser tests drive Debian's Chromium through Playwright against pytest-django's
live server. Without a Chromium they skip with the reason, except under CI=true,
where they fail: CI must run them."""

import os
import shutil

import pytest

# Playwright's sync API runs an event loop in the test thread; the ORM calls the
# tests make to set up data are still synchronous and safe here.
os.environ.setdefault("DJANGO_ALLOW_ASYNC_UNSAFE", "true")

CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")


@pytest.fixture(scope="session", autouse=True)
def _require_chromium():
    if CHROMIUM:
        return
    reason = (
        "No Chromium on PATH: install Debian's chromium and fonts-noto-cjk "
        "(apt-get install -y chromium fonts-noto-cjk) to run the browser tests."
    )
    if os.environ.get("CI") == "true":
        pytest.fail(reason, pytrace=False)
    pytest.skip(reason)


@pytest.fixture(scope="session")
def browser_type_launch_args(browser_type_launch_args):
    return {
        **browser_type_launch_args,
        "executable_path": CHROMIUM,
        "args": [
            "--no-sandbox",
            "--disable-gpu",
            "--disable-dev-shm-usage",
            "--disable-background-networking",
            "--disable-component-update",
            "--disable-sync",
            "--no-first-run",
        ],
    }


@pytest.fixture
def demo_data(transactional_db):
    """The demo organisation, loaded into the live server's database."""
    from django.core.management import call_command

    call_command("load_demo_data", stdout=open(os.devnull, "w"))  # noqa: SIM115


def sign_in(page, live_server, username, password="xuefa-demo"):  # noqa: S107
    page.goto(f"{live_server.url}/accounts/login/")
    page.fill("input[name=login]", username)
    page.fill("input[name=password]", password)
    page.click("button[type=submit]")


@pytest.fixture(scope="session")
def browser_context_args(browser_context_args):
    """A browser in China asks for Chinese; the site answers in zh-hans."""
    return {**browser_context_args, "locale": "zh-CN", "timezone_id": "Asia/Shanghai"}


@pytest.fixture(scope="session", autouse=True)
def _content_security_policy_is_enforced():
    """The live server runs the app's own middleware and policy, so a page that
    needs an inline script or a source the policy forbids fails here."""
    from django.conf import settings

    assert "learning.csp.ContentSecurityPolicyMiddleware" in settings.MIDDLEWARE
    assert settings.CONTENT_SECURITY_POLICY["DIRECTIVES"]["script-src"] == ["'self'"]
    assert not settings.CONTENT_SECURITY_POLICY_REPORT_ONLY


@pytest.fixture
def context(context):
    """Every page of a test: a Content-Security-Policy violation fails the test."""
    violations = []

    def note(message):
        if "Content Security Policy" in message.text:
            violations.append(f"{message.page.url if message.page else ''}: {message.text}")

    context.on("console", note)
    context.csp_violations = violations
    yield context
    assert violations == [], "\n".join(violations)


@pytest.fixture
def sitting(transactional_db):
    """An official "sitter" (signed out, DEFAULT_PASSWORD) and an open exam of four
    single-choice questions, each answered correctly by A."""
    from tests.exams.factories import ExamSessionFactory, QuestionFactory, fixed_paper
    from tests.factories import OfficialFactory

    official = OfficialFactory(user__username="sitter")
    exam = ExamSessionFactory(paper=fixed_paper(QuestionFactory.create_batch(4)))
    return official, exam


def choose(page, position, letter):
    """Tick an option of the attempt page's question, as the official does."""
    page.locator(f"#q-{position} input[value='{letter}']").check()
