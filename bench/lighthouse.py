"""Lighthouse (mobile) scores of the officials' key pages, signed in as the demo official.

Serves the app as the other benches do (gunicorn, the production settings over plain
HTTP, the demo data), signs in, and runs Google's Lighthouse from npm on each page
with the mobile preset (a mid-range phone, a slow 4G connection), in Debian's
Chromium whose cookie jar holds the session (bench/lighthouse_js/run.mjs). Prints
performance, accessibility, best practices and SEO per page. Targets: performance
>= 95, accessibility and best practices 100.

    .venv/bin/python bench/lighthouse.py [--pages dashboard lecture ...] [--runs 1]

Needs npm (Lighthouse is installed into ~/.cache/xuefa-lighthouse on first use) and
`chromium` on PATH. LIGHTHOUSE_DETAILS=1 prints what each failing audit found. Uses
DATABASE_URL when set, otherwise a temporary SQLite database.
"""

import argparse
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

from harness import served_app, sign_in

USERNAME = "official"
PAGES = {
    "dashboard": "/",
    "lecture hall": "/lectures/",
    "lecture": "/lectures/constitution/",
    "exams": "/exams/",
    "record": "/me/record/",
    "notebook": "/exams/notebook/",
    "observations": "/observations/",
}
CATEGORIES = ("performance", "accessibility", "best-practices", "seo")
TARGETS = {"performance": 95, "accessibility": 100, "best-practices": 100}


NPM_PACKAGES = ["lighthouse@12.8.2", "puppeteer-core@24", "chrome-launcher@1"]
RUNNER = Path(__file__).resolve().parent / "lighthouse_js" / "run.mjs"
CACHE = Path(os.environ.get("XDG_CACHE_HOME", Path.home() / ".cache")) / "xuefa-lighthouse"


def install():
    """Lighthouse and the runner in a cache folder of their own (not the project's
    node_modules: only this bench needs them)."""
    if not (CACHE / "node_modules" / "lighthouse").exists():
        CACHE.mkdir(parents=True, exist_ok=True)
        subprocess.run(
            ["npm", "install", "--prefix", str(CACHE), "--no-audit", "--no-fund", *NPM_PACKAGES],
            check=True,
            stdout=subprocess.DEVNULL,
        )
    shutil.copy(RUNNER, CACHE / "run.mjs")


def lighthouse(url, cookies, chromium, out):
    command = ["node", str(CACHE / "run.mjs"), url, chromium, json.dumps(cookies), out]
    report = {}
    for _attempt in range(3):
        # Headless Chromium now and then fails to record a page load (NO_NAVSTART,
        # NO_FCP): measure it again.
        if subprocess.run(command, stdout=subprocess.DEVNULL).returncode == 0:
            report = json.loads(Path(out).read_text())
            if not report.get("runtimeError"):
                break
    else:
        raise SystemExit(f"Lighthouse failed three times on {url}: {report.get('runtimeError')}")
    scores = {c: round(100 * (report["categories"][c]["score"] or 0)) for c in CATEGORIES}
    failing = [
        audit["id"]
        for audit in report["audits"].values()
        if audit.get("score") is not None
        and audit["score"] < 1
        and audit.get("scoreDisplayMode") == "binary"
    ]
    if os.environ.get("LIGHTHOUSE_DETAILS"):
        for item in report["audits"]["errors-in-console"].get("details", {}).get("items", []):
            what = f"{item.get('source')} {item.get('url', '')} {item.get('description', '')}"
            print(f"    console: {what[:240]}")
        for audit_id in failing:
            items = report["audits"][audit_id].get("details", {}).get("items", [])
            for item in items[:5]:
                node = item.get("node", {})
                print(f"    {audit_id}: {node.get('selector', '')} {node.get('snippet', '')[:160]}")
    return scores, failing, report["finalDisplayedUrl"]


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--pages", nargs="*", choices=sorted(PAGES), default=sorted(PAGES))
    args = parser.parse_args()
    chromium = shutil.which("chromium") or shutil.which("chromium-browser")
    if not (chromium and shutil.which("npm")):
        sys.exit("needs chromium and npm on PATH")
    install()
    ok = True
    with served_app() as (port, _env), tempfile.TemporaryDirectory() as tmp:
        session = sign_in(port, USERNAME)
        cookies = dict(session.cookies)
        print(f"{'page':<14} {'perf':>5} {'a11y':>5} {'b-p':>5} {'seo':>5}  failing audits")
        for name in args.pages:
            url = f"http://127.0.0.1:{port}{PAGES[name]}"
            out = os.path.join(tmp, re.sub(r"\W", "_", name) + ".json")
            scores, failing, final = lighthouse(url, cookies, chromium, out)
            if "/accounts/login" in final:
                sys.exit(f"{name}: Lighthouse was sent to the sign-in page")
            below = [c for c, goal in TARGETS.items() if scores[c] < goal]
            ok = ok and not below
            print(
                f"{name:<14} {scores['performance']:>5} {scores['accessibility']:>5} "
                f"{scores['best-practices']:>5} {scores['seo']:>5}  {', '.join(failing) or '-'}"
            )
    print("targets: performance >= 95, accessibility 100, best practices 100:", end=" ")
    print("met" if ok else "NOT met")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
