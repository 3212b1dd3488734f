#!/usr/bin/env python3
"""How heavy the capture page is on a phone, and how fast an item is saved: `make bench-capture`.

A benchmark, not a test: it prints figures to compare against the goals in issue 4 and to copy
into the README's "Performance" section. It needs what `make test` needs (Debian's Chromium,
PostgreSQL 15's server binaries) and takes a minute or two.

1. Page weight. The demo volunteer signs in and opens a new event's page in Chromium at
   360x640, as a volunteer would at a coffee morning. Every response the page uses is
   gzipped at level 6 (what a reverse proxy in front of gunicorn would send) and added up.
   Goal: 60 KB or less, CSS and JavaScript included.
2. Repeat visit. The same page opened again: how many of its responses the service worker
   answered. Goal: all of them (the page itself is fetched fresh when there is a signal, by
   the worker, so that it is never stale; everything else comes from the worker's cache).
3. Save latency. gunicorn (3 sync workers, the README's production command) on SQLite, then
   on a throwaway PostgreSQL. 20 clients, each signed in with its own session, save items
   through the JSON endpoint the offline queue uses, all at once; p50 and p95 per save.

    .venv/bin/python scripts/bench_capture.py [--clients 20] [--saves 25] [--workers 3]
"""

from __future__ import annotations

import argparse
import gzip
import http.client
import json
import os
import re
import secrets
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import datetime
from http.cookies import SimpleCookie
from pathlib import Path
from urllib.parse import urlencode
from zoneinfo import ZoneInfo

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from tests.postgres import postgres_server  # noqa: E402

BIN = ROOT / ".venv" / "bin"
CHROMIUM = Path("/usr/bin/chromium")
VOLUNTEER = "volunteer@demo.example.org"
PASSWORD = "demo-password"  # noqa: S105 - the demo's published password
PAGE_GOAL_KB = 60


# A minimal HTTP client with a cookie jar: what the 20 phones are.


class Client:
    def __init__(self, host: str, port: int):
        self.host, self.port = host, port
        self.cookies: dict[str, str] = {}
        self.csrf_token = ""

    def request(
        self, method: str, path: str, body: bytes | None = None, headers: dict | None = None
    ) -> tuple[int, dict[str, str], bytes]:
        connection = http.client.HTTPConnection(self.host, self.port, timeout=60)
        try:
            sent = dict(headers or {})
            if self.cookies:
                sent["Cookie"] = "; ".join(f"{k}={v}" for k, v in self.cookies.items())
            connection.request(method, path, body=body, headers=sent)
            response = connection.getresponse()
            data = response.read()
            for name, value in response.getheaders():
                if name.lower() == "set-cookie":
                    cookie = SimpleCookie()
                    cookie.load(value)
                    self.cookies.update({k: m.value for k, m in cookie.items()})
            return response.status, {k.lower(): v for k, v in response.getheaders()}, data
        finally:
            connection.close()

    def form(self, path: str, fields: list[tuple[str, str]]) -> tuple[int, dict[str, str]]:
        status, headers, _ = self.request(
            "POST",
            path,
            urlencode(fields).encode(),
            {"Content-Type": "application/x-www-form-urlencoded"},
        )
        return status, headers

    def token_from(self, path: str) -> str:
        _, _, html = self.request("GET", path)
        match = re.search(rb'name="csrf_token" (?:type="hidden" )?value="([^"]+)"', html)
        if not match:
            raise RuntimeError(f"No CSRF token on {path}")
        return match.group(1).decode()

    def sign_in(self, email: str = VOLUNTEER) -> None:
        token = self.token_from("/sign-in")
        status, _ = self.form(
            "/sign-in", [("email", email), ("password", PASSWORD), ("csrf_token", token)]
        )
        if status != 302:
            raise RuntimeError(f"Signing in as {email} answered {status}")
        status, _, body = self.request(
            "GET", "/capture/csrf-token.json", headers={"Accept": "application/json"}
        )
        if status != 200:
            raise RuntimeError(f"No CSRF token for the JSON endpoint: {status}")
        self.csrf_token = json.loads(body)["csrf_token"]

    def create_event(self, name: str) -> int:
        today = datetime.now(ZoneInfo("Europe/London")).date()
        token = self.token_from("/capture/events/new")
        status, headers = self.form(
            "/capture/events/new",
            [
                ("csrf_token", token),
                ("name", name),
                ("kind", "coffee_morning"),
                ("held_on", str(today.day)),
                ("held_on", str(today.month)),
                ("held_on", str(today.year)),
                ("place", "Marple Library"),
                ("adults_count", "14"),
                ("young_people_count", "2"),
                ("children_count", "0"),
            ],
        )
        match = re.search(r"/capture/events/(\d+)$", headers.get("location", ""))
        if status != 302 or not match:
            raise RuntimeError(f"Creating an event answered {status}")
        return int(match.group(1))

    def save_item(self, event_id: int, number: int) -> tuple[int, float]:
        body = json.dumps(
            {
                "idempotency_key": str(uuid.uuid4()),
                "text": f"Item {number}: nobody explained what an EHCP is or how to ask.",
                "respondent": "parent_carer",
                "sentiment": "needs_change",
                "need_types": ["communication_interaction"],
                "age_phase": "primary",
            }
        ).encode()
        started = time.perf_counter()
        status, _, _ = self.request(
            "POST",
            f"/capture/events/{event_id}/items.json",
            body,
            {
                "Content-Type": "application/json",
                "Accept": "application/json",
                "X-CSRFToken": self.csrf_token,
            },
        )
        return status, (time.perf_counter() - started) * 1000


# The app under gunicorn, on a database of its own


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _environment(database_url: str) -> dict[str, str]:
    env = dict(os.environ)
    env.update(
        {
            # Development: cookies over plain HTTP on 127.0.0.1. Everything else is as deployed.
            "APP_ENV": "development",
            "SECRET_KEY": secrets.token_hex(32),
            "DATABASE_URL": database_url,
            "PYTHONPATH": str(ROOT),
        }
    )
    return env


def _run(args: list[str], env: dict[str, str]) -> None:
    done = subprocess.run(  # noqa: S603
        args, cwd=ROOT, env=env, capture_output=True, text=True, check=False
    )
    if done.returncode:
        raise RuntimeError(f"{' '.join(args[1:])} failed:\n{done.stderr[-2000:]}")


@contextmanager
def gunicorn(database_url: str, workers: int) -> Iterator[int]:
    """Migrate, load the demo, serve; yield the port."""
    env = _environment(database_url)
    flask = [str(BIN / "flask"), "--app", "wsgi"]
    _run([*flask, "db", "upgrade"], env)
    _run([*flask, "demo", "load"], env)
    port = _free_port()
    server = subprocess.Popen(  # noqa: S603
        [
            str(BIN / "gunicorn"),
            "--workers",
            str(workers),
            "--bind",
            f"127.0.0.1:{port}",
            "--log-level",
            "warning",
            "wsgi:app",
        ],
        cwd=ROOT,
        env=env,
    )
    try:
        deadline = time.monotonic() + 30
        while True:
            try:
                status, _, _ = Client("127.0.0.1", port).request("GET", "/healthz")
                if status == 200:
                    break
            except OSError:
                pass
            if time.monotonic() > deadline or server.poll() is not None:
                raise RuntimeError("gunicorn did not start")
            time.sleep(0.2)
        yield port
    finally:
        server.terminate()
        server.wait(timeout=30)


# 1 and 2: the page in Chromium


@dataclass
class PageWeight:
    by_type: dict[str, int] = field(default_factory=dict)
    urls: list[tuple[str, int, int]] = field(default_factory=list)
    repeat_total: int = 0
    repeat_from_worker: int = 0
    repeat_network_bytes: int = 0

    @property
    def total(self) -> int:
        return sum(self.by_type.values())


def measure_page(port: int, event_id: int) -> PageWeight | None:
    if not CHROMIUM.exists():
        print(f"{CHROMIUM} not found: page weight skipped (apt-get install chromium)")
        return None
    from playwright.sync_api import sync_playwright

    base = f"http://127.0.0.1:{port}"
    url = f"{base}/capture/events/{event_id}"
    weight = PageWeight()
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=str(CHROMIUM), args=["--no-sandbox"])
        context = browser.new_context(viewport={"width": 360, "height": 640})
        page = context.new_page()
        page.goto(f"{base}/sign-in")
        page.get_by_label("Email address").fill(VOLUNTEER)
        page.get_by_label("Password", exact=True).fill(PASSWORD)
        page.get_by_role("button", name="Sign in").click()
        page.wait_for_url(f"{base}/home")

        # A first visit: nothing of the capture pages cached yet (the home page shares the CSS
        # and JavaScript, so the browser's own cache is emptied too).
        session = context.new_cdp_session(page)
        session.send("Network.clearBrowserCache")
        responses = []
        page.on("response", lambda response: responses.append(response))
        page.goto(url, wait_until="networkidle")
        seen = set()
        for response in responses:
            if not response.url.startswith(base) or response.url in seen:
                continue
            seen.add(response.url)
            # Fetched again with the page's cookies: a response's own body is gone once the
            # page has moved on (the worker's takeover can do that).
            body = context.request.get(response.url).body()
            size = len(gzip.compress(body, compresslevel=6))
            kind = response.request.resource_type
            weight.by_type[kind] = weight.by_type.get(kind, 0) + size
            weight.urls.append((response.url.removeprefix(base), len(body), size))

        # Wait for the worker to take over and keep its copies, then come back.
        page.evaluate("navigator.serviceWorker.ready.then(() => true)")
        deadline = time.monotonic() + 15
        while time.monotonic() < deadline and not page.evaluate(
            """async (url) => {
                for (const name of await caches.keys()) {
                    if (await (await caches.open(name)).match(url, {ignoreVary: true})) {
                        return true;
                    }
                }
                return false;
            }""",
            url,
        ):
            page.wait_for_timeout(100)
        responses.clear()
        page.goto(url, wait_until="networkidle")
        for response in responses:
            if not response.url.startswith(base):
                continue
            weight.repeat_total += 1
            if response.from_service_worker:
                weight.repeat_from_worker += 1
            if response.request.resource_type == "document":
                # Network first: the page itself is fetched fresh, through the worker.
                body = context.request.get(response.url).body()
                weight.repeat_network_bytes += len(gzip.compress(body, 6))
        browser.close()
    return weight


# 3: saving items, 20 at once


@dataclass
class Latency:
    label: str
    timings: list[float]
    failures: int
    seconds: float

    def percentile(self, p: float) -> float:
        ordered = sorted(self.timings)
        return ordered[min(len(ordered) - 1, round(p / 100 * (len(ordered) - 1)))]


def measure_saves(port: int, event_id: int, clients: int, saves: int, label: str) -> Latency:
    phones = [Client("127.0.0.1", port) for _ in range(clients)]
    for phone in phones:
        phone.sign_in()
    for number in range(3):
        phones[0].save_item(event_id, -number)  # warm up every worker's connections
    start = threading.Barrier(clients)
    timings: list[float] = []
    failures = 0
    lock = threading.Lock()

    def run(phone: Client, offset: int) -> None:
        nonlocal failures
        start.wait()
        for n in range(saves):
            status, ms = phone.save_item(event_id, offset + n)
            with lock:
                if status == 201:
                    timings.append(ms)
                else:
                    failures += 1

    threads = [
        threading.Thread(target=run, args=(phone, i * saves)) for i, phone in enumerate(phones)
    ]
    began = time.perf_counter()
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return Latency(label, timings, failures, time.perf_counter() - began)


def _kb(size: int) -> str:
    return f"{size / 1024:.1f} KB"


def report(weight: PageWeight | None, latencies: list[Latency], args: argparse.Namespace) -> None:
    print()
    if weight:
        verdict = "meets" if weight.total <= PAGE_GOAL_KB * 1024 else "MISSES"
        print(f"Capture page, first visit, gzip level 6: {_kb(weight.total)} ", end="")
        print(f"({verdict} the goal of {PAGE_GOAL_KB} KB)")
        for kind, size in sorted(weight.by_type.items(), key=lambda kv: -kv[1]):
            print(f"  {kind:<12} {_kb(size):>9}")
        for url, raw, size in weight.urls:
            print(f"    {url:<44} {_kb(raw):>9} raw {_kb(size):>9} gzip")
        served = f"{weight.repeat_from_worker} of {weight.repeat_total}"
        verdict = "meets" if weight.repeat_from_worker == weight.repeat_total else "MISSES"
        print(f"Repeat visit: {served} responses from the service worker ({verdict} the goal)")
        print(f"  over the network: the page itself, {_kb(weight.repeat_network_bytes)} gzip")
        print()
    print(
        f"Saving an item: {args.clients} clients at once, {args.saves} saves each, "
        f"gunicorn {args.workers} sync workers"
    )
    columns = ("saves", "failed", "p50", "p95", "max", "/s")
    widths = (6, 6, 8, 8, 8, 7)
    header = " ".join(f"{c:>{w}}" for c, w in zip(columns, widths, strict=True))
    print(f"  {'database':<11} {header}")
    for result in latencies:
        if not result.timings:
            print(f"  {result.label:<11} no saves succeeded ({result.failures} failed)")
            continue
        print(
            f"  {result.label:<11} {len(result.timings):>6} {result.failures:>6} "
            f"{statistics.median(result.timings):>6.0f}ms {result.percentile(95):>6.0f}ms "
            f"{max(result.timings):>6.0f}ms {len(result.timings) / result.seconds:>7.0f}"
        )


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--clients", type=int, default=20)
    parser.add_argument("--saves", type=int, default=25, help="saves per client")
    parser.add_argument("--workers", type=int, default=3, help="gunicorn workers (2-4)")
    parser.add_argument(
        "--db", choices=["sqlite", "postgresql", "both"], default="both", help="databases"
    )
    args = parser.parse_args()

    weight = None
    latencies = []
    folder = Path(tempfile.mkdtemp(prefix="ysyd-bench-"))
    try:
        if args.db in ("sqlite", "both"):
            with gunicorn(f"sqlite:///{folder / 'bench.sqlite3'}", args.workers) as port:
                volunteer = Client("127.0.0.1", port)
                volunteer.sign_in()
                event_id = volunteer.create_event("Coffee morning at Marple Library")
                weight = measure_page(port, event_id)
                saves_event = volunteer.create_event("Benchmark drop-in")
                latencies.append(
                    measure_saves(port, saves_event, args.clients, args.saves, "SQLite")
                )
        if args.db in ("postgresql", "both"):
            with postgres_server() as url, gunicorn(url, args.workers) as port:
                volunteer = Client("127.0.0.1", port)
                volunteer.sign_in()
                if weight is None:
                    weight = measure_page(port, volunteer.create_event("Coffee morning"))
                saves_event = volunteer.create_event("Benchmark drop-in")
                latencies.append(
                    measure_saves(port, saves_event, args.clients, args.saves, "PostgreSQL")
                )
    finally:
        shutil.rmtree(folder, ignore_errors=True)
    report(weight, latencies, args)
    return 0


if __name__ == "__main__":
    sys.exit(main())
