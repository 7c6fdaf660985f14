"""The exam-day load generator: one asyncio process playing N officials.
Runs as its own process so its CPU is not the app's (exam_day.py starts it).

Each official arrives at a moment within `--ramp` seconds (`--arrivals`: uniform,
or `morning`: a Beta(2, 3) curve, busiest a third of the way in, at 1.8 times the
average rate, with a tail of late-comers). Plain mode: the official arrives signed
in (the plan holds its session cookie). `--morning`: it signs in first, GET
/accounts/login/ and POST the form with its CSRF token and the plan's password
(allauth, the real password hash), then lands on / (the dashboard). Then it opens
the exam list, the session page, starts (or resumes) the attempt, opens the attempt
page, saves an answer every `--save-every` seconds (first save at a random offset,
so saves spread evenly) for `--duration` seconds, and submits; a share of them
submits twice (a double click). A save is retried like the attempt page's
JavaScript does: on a connection error or a 5xx, with back-off; 4xx other than 403
is final.

Every request carries X-Forwarded-For with the official's own client address
(10.x.y.z; `--officials-per-address` puts that many officials behind one address,
an office behind one NAT), as the proxy in front of the app sends it: the app
trusts one proxy hop (XUEFA_TRUSTED_PROXY_COUNT, default 1) and allauth's per-address
sign-in limits count what that header names. Without it every official would be
127.0.0.1, and allauth's "login" limit (30 sign-in POSTs a minute per address,
successes included) would refuse most of a morning from one load generator.

Plain HTTP/1.0 over asyncio streams (on uvloop when installed), one connection
per request (gunicorn's sync workers close the connection anyway, as they would
behind a proxy); at most `--connections` requests in flight, the pool a proxy in
front of the app keeps. A request's latency includes waiting for that pool.

    python bench/exam_load.py --port P --plan plan.json --out results.json [...]
"""

import argparse
import asyncio
import json
import random
import re
import time
import urllib.parse
from collections import defaultdict

ATTEMPT_RE = re.compile(rb"/exams/\d+/attempts/(\d+)/")
CHOICE_RE = re.compile(rb'name="q(\d+)" value="([A-Z])"')
MULTI_RE = re.compile(rb'type="checkbox" name="q(\d+)"')
TOKEN_RE = re.compile(rb'name="csrfmiddlewaretoken" value="([^"]+)"')


class Stats:
    def __init__(self):
        self.latencies = defaultdict(list)
        self.statuses = defaultdict(lambda: defaultdict(int))
        self.errors = []

    def add(self, endpoint, status, ms):
        self.latencies[endpoint].append(ms)
        self.statuses[endpoint][str(status)] += 1


class Client:
    """HTTP/1.0 requests with a cookie jar, through the shared connection pool."""

    def __init__(self, host, port, pool, stats, timeout, retry_for=120):
        self.host, self.port, self.pool, self.stats = host, port, pool, stats
        self.timeout, self.retry_for = timeout, retry_for
        self.cookies = {}
        self.headers = {}  # sent with every request (the proxy's X-Forwarded-For)

    async def request(self, endpoint, method, path, form=None, headers=None):
        """(status, headers dict, body); status 0 on a connection error or timeout."""
        head = [f"{method} {path} HTTP/1.0", f"Host: {self.host}:{self.port}"]
        if self.cookies:
            head.append("Cookie: " + "; ".join(f"{k}={v}" for k, v in self.cookies.items()))
        for name, value in {**self.headers, **(headers or {})}.items():
            head.append(f"{name}: {value}")
        body = b""
        if form is not None:
            body = urllib.parse.urlencode(form).encode()
            head.append("Content-Type: application/x-www-form-urlencoded")
            head.append(f"Content-Length: {len(body)}")
        raw = ("\r\n".join(head) + "\r\n\r\n").encode() + body
        start = time.perf_counter()
        status, got_headers, data = 0, {}, b""
        async with self.pool:
            writer = None
            try:
                # One timeout for the whole exchange: asyncio.wait_for would run the
                # connect and the read as two extra tasks, doubling this process's
                # CPU per request.
                async with asyncio.timeout(self.timeout):
                    reader, writer = await asyncio.open_connection(self.host, self.port)
                    writer.write(raw)
                    data = await reader.read()
            except (TimeoutError, OSError) as error:
                self.stats.errors.append(f"{endpoint}: {type(error).__name__}")
                data = b""
            finally:
                if writer is not None:
                    writer.close()
        ms = (time.perf_counter() - start) * 1000
        if data:
            head_raw, _sep, data = data.partition(b"\r\n\r\n")
            lines = head_raw.decode("latin-1").split("\r\n")
            try:
                status = int(lines[0].split()[1])
            except (IndexError, ValueError):
                status = 0
            for line in lines[1:]:
                name, _c, value = line.partition(":")
                name, value = name.strip().lower(), value.strip()
                if name == "set-cookie":
                    self.set_cookie(value)
                else:
                    got_headers[name] = value
            # A server killed mid-response closes the connection cleanly: a body
            # shorter than announced is a broken response (a browser's reload).
            if len(data) < int(got_headers.get("content-length", len(data))):
                self.stats.errors.append(f"{endpoint}: truncated response")
                status = 0
        self.stats.add(endpoint, status, ms)
        return status, got_headers, data

    def set_cookie(self, header):
        """Keep a Set-Cookie in the jar, or drop the cookie it deletes (an empty
        value, as Django deletes the messages cookie once they are shown)."""
        cname, _e, rest = header.partition("=")
        value = rest.split(";", 1)[0]
        if value and value != '""':
            self.cookies[cname.strip()] = value
        else:
            self.cookies.pop(cname.strip(), None)

    async def retrying(self, endpoint, method, path, form=None, headers=None):
        """Retry on connection errors and 5xx with back-off (capped at 4 s) for up
        to --retry-for seconds, as the attempt page's script (and a patient person
        pressing reload) would; the final (status, headers, body)."""
        delay = 0.25
        give_up = time.monotonic() + self.retry_for
        while True:
            result = await self.request(endpoint, method, path, form, headers)
            if (result[0] and result[0] < 500) or time.monotonic() > give_up:
                return result
            await asyncio.sleep(delay * (0.5 + random.random()))  # noqa: S311
            delay = min(delay * 2, 4)


def _token(body):
    match = TOKEN_RE.search(body)
    return match.group(1).decode() if match else ""


def client_address(index, per_address=1):
    """The official's client address as the proxy reports it: 10.0.0.1, 10.0.0.2, ...
    with `per_address` officials sharing each."""
    n = index // max(1, per_address) + 1
    return f"10.{n >> 16 & 255}.{n >> 8 & 255}.{n & 255}"


def arrival(cfg, rng):
    """Seconds after the start at which an official arrives, within cfg.ramp."""
    if cfg.arrivals == "morning":
        return cfg.ramp * rng.betavariate(2, 3)
    return rng.uniform(0, cfg.ramp)


async def sign_in(cfg, client, name, out):
    """The sign-in form (allauth), then the dashboard it leads to; True when the
    official is signed in and sees the dashboard."""
    status, _h, page = await client.retrying("GET sign-in", "GET", "/accounts/login/")
    if status != 200 or not _token(page):
        out["failed_officials"].append(f"{name}: sign-in page gave {status}")
        return False
    form = {"csrfmiddlewaretoken": _token(page), "login": name, "password": cfg.password}
    referer = {"Referer": f"http://{cfg.host}:{cfg.port}/accounts/login/"}
    status, headers, _b = await client.retrying(
        "POST sign-in", "POST", "/accounts/login/", form, referer
    )
    where = urllib.parse.urlsplit(headers.get("location", "")).path
    if status != 302 or where != "/":
        # 200: the form again (refused); 429: a rate limit.
        out["failed_officials"].append(f"{name}: sign-in gave {status} {where}")
        return False
    status, _h, _b = await client.retrying("GET dashboard", "GET", "/")
    if status != 200:
        out["failed_officials"].append(f"{name}: dashboard gave {status}")
        return False
    return True


async def official(cfg, person, session_id, stats, pool, out, rng, index=0):
    client = Client(cfg.host, cfg.port, pool, stats, cfg.timeout, cfg.retry_for)
    client.headers["X-Forwarded-For"] = client_address(index, cfg.officials_per_address)
    name = person["username"]
    await asyncio.sleep(arrival(cfg, rng))
    out["arrived"].append(time.perf_counter())
    if cfg.morning:
        if not await sign_in(cfg, client, name, out):
            return
    else:
        client.cookies[cfg.session_cookie] = person["sessionid"]
    referer = {"Referer": f"http://{cfg.host}:{cfg.port}/"}
    await client.retrying("GET /exams/", "GET", "/exams/")
    status, _h, page = await client.retrying("GET session", "GET", f"/exams/{session_id}/")
    if status != 200 or not _token(page):
        out["failed_officials"].append(f"{name}: session page gave {status} (retries ran out)")
        return
    start_form = {"csrfmiddlewaretoken": _token(page)}
    status, headers, _b = await client.retrying(
        "POST start", "POST", f"/exams/{session_id}/start/", start_form, referer
    )
    match = ATTEMPT_RE.search(headers.get("location", "").encode())
    if status != 302 or not match:
        out["failed_officials"].append(f"{name}: start gave {status}")
        return
    attempt_id = int(match.group(1))
    path = f"/exams/{session_id}/attempts/{attempt_id}/"
    status, _h, page = await client.retrying("GET attempt", "GET", path)
    choices = defaultdict(list)
    for position, letter in CHOICE_RE.findall(page):
        choices[int(position)].append(letter.decode())
    multiple = {int(p) for p in MULTI_RE.findall(page)}
    token = _token(page)
    if status != 200 or not choices:
        out["failed_officials"].append(f"{name}: attempt page gave {status}")
        return
    save_headers = {**referer, "X-CSRFToken": token, "X-Requested-With": "XMLHttpRequest"}
    loop = asyncio.get_running_loop()
    began = loop.time()
    await asyncio.sleep(rng.uniform(0, cfg.save_every))
    shown = {}  # position -> the response the page now shows (last sent)
    while loop.time() - began < cfg.duration:
        position = rng.choice(sorted(choices))
        if position in multiple:
            response = "".join(sorted(rng.sample(choices[position], 2)))
        else:
            response = rng.choice(choices[position])
        key = f"{attempt_id}:{position}"
        shown[position] = response
        out["unacked_after"][key].append(response)
        status, _h, body = await client.retrying(
            "POST answer",
            "POST",
            path + "answer/",
            {"position": position, "response": response},
            save_headers,
        )
        if status == 200 and b'"ok": true' in body:
            out["acked"][key] = response
            out["unacked_after"][key] = []
        else:
            out["failed_saves"].append(f"{key}: {status}")
        await asyncio.sleep(cfg.save_every)
    if cfg.resume:
        # Resume: starting again must give the same attempt.
        status, headers, _b = await client.retrying(
            "POST start", "POST", f"/exams/{session_id}/start/", start_form, referer
        )
        again = ATTEMPT_RE.search(headers.get("location", "").encode())
        out["resumed"][name] = [attempt_id, int(again.group(1)) if again else None]
    if cfg.no_submit:
        return
    # The submit form carries every checked input, as a browser sends it.
    submit_form = [("csrfmiddlewaretoken", token)] + [
        (f"q{position}", letter) for position, response in shown.items() for letter in response
    ]
    times = 2 if rng.random() < cfg.double_submit else 1
    for _n in range(times):
        status, headers, _b = await client.retrying(
            "POST submit", "POST", path + "submit/", submit_form, referer
        )
        if status == 302 and headers.get("location", "").endswith("/result/"):
            out["submitted"].setdefault(str(attempt_id), time.time())
        else:
            out["failed_submits"].append(f"{attempt_id}: {status}")
    await client.retrying("GET result", "GET", path + "result/")


def percentile(sorted_values, share):
    if not sorted_values:
        return 0.0
    return sorted_values[min(len(sorted_values) - 1, int(len(sorted_values) * share))]


def busiest_arrivals(times, ramp, slices=10):
    """The busiest tenth of the arrival window: {"officials", "per_second",
    "average_per_second", "at"} (seconds from the start)."""
    width = max(ramp, 1e-9) / slices
    counts = [0] * slices
    for t in times:
        counts[min(slices - 1, int(t / width))] += 1
    busiest = max(range(slices), key=counts.__getitem__)
    return {
        "officials": counts[busiest],
        "per_second": counts[busiest] / width,
        "average_per_second": len(times) / max(ramp, 1e-9),
        "at": busiest * width,
    }


async def run(cfg):
    with open(cfg.plan) as fh:
        plan = json.load(fh)
    cfg.session_cookie = plan["session_cookie"]
    cfg.password = plan.get("password", "")
    stats = Stats()
    pool = asyncio.Semaphore(cfg.connections)
    out = {
        "acked": {},
        "unacked_after": defaultdict(list),
        "submitted": {},
        "resumed": {},
        "failed_officials": [],
        "failed_saves": [],
        "failed_submits": [],
        "arrived": [],
    }
    rng = random.Random(cfg.seed)  # noqa: S311 - load shape, not a secret
    started = time.perf_counter()
    tasks = [
        asyncio.ensure_future(
            official(
                cfg,
                person,
                plan["session_id"],
                stats,
                pool,
                out,
                random.Random(rng.random()),  # noqa: S311
                index,
            )
        )
        for index, person in enumerate(plan["officials"])
    ]
    _done, pending = await asyncio.wait(tasks, timeout=cfg.max_seconds)
    # Past --max-seconds the run stops where it is: requests in flight count as
    # sent but not acknowledged, and the officials still going are reported.
    for task in pending:
        task.cancel()
    await asyncio.gather(*pending, return_exceptions=True)
    out["unfinished_officials"] = len(pending)
    elapsed = time.perf_counter() - started
    endpoints = {}
    for endpoint, values in stats.latencies.items():
        values.sort()
        endpoints[endpoint] = {
            "count": len(values),
            "rps": len(values) / elapsed,
            "p50": percentile(values, 0.50),
            "p95": percentile(values, 0.95),
            "p99": percentile(values, 0.99),
            "max": values[-1],
            "statuses": dict(stats.statuses[endpoint]),
        }
    out["endpoints"] = endpoints
    out["elapsed"] = elapsed
    out["arrivals"] = busiest_arrivals([t - started for t in out.pop("arrived")], cfg.ramp)
    out["connection_errors"] = stats.errors[:50]
    out["connection_error_count"] = len(stats.errors)
    with open(cfg.out, "w") as fh:
        json.dump(out, fh)


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--plan", required=True)
    parser.add_argument("--out", required=True)
    parser.add_argument("--ramp", type=float, default=120, help="arrival window, seconds")
    parser.add_argument("--arrivals", choices=["uniform", "morning"], default="uniform")
    parser.add_argument(
        "--morning", action="store_true", help="sign in through the form, then the dashboard"
    )
    parser.add_argument("--officials-per-address", type=int, default=1)
    parser.add_argument("--duration", type=float, default=60)
    parser.add_argument("--save-every", type=float, default=30)
    parser.add_argument("--double-submit", type=float, default=0.1)
    parser.add_argument("--connections", type=int, default=64)
    parser.add_argument("--timeout", type=float, default=60)
    parser.add_argument("--retry-for", type=float, default=120, help="seconds of retries")
    parser.add_argument("--resume", action="store_true", help="start again before submitting")
    parser.add_argument("--no-submit", action="store_true")
    parser.add_argument("--seed", type=int, default=8)
    parser.add_argument("--max-seconds", type=float, help="stop the run after this long")
    cfg = parser.parse_args()
    try:
        # uvloop (a dev dependency) when installed: the load generator shares the
        # machine with the app, and every CPU millisecond it spends is the app's loss.
        import uvloop
    except ImportError:
        asyncio.run(run(cfg))
    else:
        uvloop.run(run(cfg))


if __name__ == "__main__":
    main()
