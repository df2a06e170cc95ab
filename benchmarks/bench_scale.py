"""Scale benchmark: the pages at 1,000 / 100,000 / 1,000,000 actions, served by gunicorn.

For each size it builds (once) a national dataset in its own PostgreSQL database by COPY
(benchmarks/scale_data.py) and serves the app with gunicorn on 127.0.0.1 with DEBUG off, every
size at once on ports BENCH_PORT, BENCH_PORT+1, ...; it signs in as the role that uses each page
and times each page one request at a time, the requests taking the sizes in turn (so a slower
spell of a shared machine falls on every size alike), then with 8 concurrent clients, beside a
floor (a trivial view through the same middleware) and a plain Django admin changelist of the
same Action table (the anchor). The CSV export is the largest
authority's whole action list as its leader downloads it (the list's export link, no filters),
every byte of the streamed body read; being 100,000 rows at 1,000,000, it is timed fewer times.
Then, with the server stopped, the same export (CSV and XLSX) runs in a process of its own
(benchmarks/export_memory.py) for its peak memory growth: RSS high-water mark and tracemalloc.

It prints, as Markdown to paste into a closing note (benchmarks/bench_report.py): a table one
request at a time (p50, p95, queries, ratio to the floor, largest size's p50 over the smallest's,
and each of issue 15's targets met or not at the largest size run), a table with 8 clients
(p50, p95, requests, p95 target), the admin changelists beside the plain-admin anchor, and the
exports' memory. Asserts nothing.

Usage:
  make bench-scale                                  # sizes 1000 100000 1000000
  .venv/bin/python benchmarks/bench_scale.py build 1000000
  .venv/bin/python benchmarks/bench_scale.py run 1000 100000 1000000 [--rebuild]
  .venv/bin/python benchmarks/bench_scale.py run 1000 --pages "dashboard,my actions"
--pages: only the pages whose label contains one of the comma-separated words (any case); the
floor and the anchor are always timed; the export memory runs only if "memory" is one of the
words (it always runs without --pages). E.g. --pages "csv export,memory", --pages "admin".
Environment: BENCH_PG (default postgres://postgres@127.0.0.1:5432), BENCH_PORT (default 8765),
BENCH_WORKERS (4), BENCH_REPEATS (15 requests one at a time), BENCH_BLOCK (5: how many of them
a size takes in a row before the next size's turn), BENCH_PER_CLIENT (5 requests
each of 8 clients), BENCH_EXPORT_REPEATS (5) and BENCH_EXPORT_PER_CLIENT (1) for the CSV export,
BENCH_TIMEOUT (gunicorn's worker timeout, 300 s: 8 exports of 100,000 rows at once on 2 cores
outlast gunicorn's default of 30), BENCH_TRACE (the exports also run under tracemalloc, default
"csv,xlsx"; tracing slows openpyxl about fivefold, so at 1,000,000 the traced XLSX alone takes
several minutes: BENCH_TRACE=csv leaves the XLSX to its RSS figure).
"""

from __future__ import annotations

import http.cookiejar
import os
import re
import statistics
import subprocess
import sys
import threading
import time
import urllib.parse
import urllib.request
from pathlib import Path

import bench_report

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))
sys.path.insert(0, str(REPO / "benchmarks"))
PG = os.environ.get("BENCH_PG", "postgres://postgres@127.0.0.1:5432")
PORT = int(os.environ.get("BENCH_PORT", "8765"))
PYTHON = sys.executable
REPEATS = int(os.environ.get("BENCH_REPEATS", "15"))
CLIENTS = 8
PER_CLIENT = int(os.environ.get("BENCH_PER_CLIENT", "5"))
BLOCK = int(os.environ.get("BENCH_BLOCK", "5"))
EXPORT_REPEATS = int(os.environ.get("BENCH_EXPORT_REPEATS", "5"))
EXPORT_PER_CLIENT = int(os.environ.get("BENCH_EXPORT_PER_CLIENT", "1"))
TIMEOUT = int(os.environ.get("BENCH_TIMEOUT", "300"))
TRACE = os.environ.get("BENCH_TRACE", "csv,xlsx").lower().split(",")
PASSWORD = "bench-password"


def db_url(size: int) -> str:
    return f"{PG}/tracker_bench_{size}"


def _env(size: int) -> dict[str, str]:
    return {
        **os.environ,
        "DATABASE_URL": db_url(size),
        "DJANGO_SETTINGS_MODULE": "bench_settings",
        "PYTHONPATH": f"{REPO}:{REPO / 'benchmarks'}",
        "SECRET_KEY": "bench-only-secret-key-0123456789-abcdefghijklmnopqrstuvwxyz",
        "ALLOWED_HOSTS": "127.0.0.1,localhost",
        "SECURE_HTTPS": "0",
        "DEBUG": "0",
        "LOG_LEVEL": "WARNING",
    }


def _psql(sql: str, database: str = "postgres") -> str:
    return subprocess.run(
        ["psql", f"{PG}/{database}", "-Atc", sql], check=True, capture_output=True, text=True
    ).stdout.strip()


def built(size: int) -> bool:
    name = f"tracker_bench_{size}"
    if _psql(f"SELECT count(*) FROM pg_database WHERE datname = '{name}'") != "1":
        return False
    try:
        marker = _psql("SELECT size FROM bench_built", name)
    except subprocess.CalledProcessError:
        return False
    return marker == str(size)


def build(size: int) -> None:
    name = f"tracker_bench_{size}"
    print(f"Building {size:,} actions in {name}", flush=True)
    started = time.monotonic()
    _psql(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)")
    _psql(f"CREATE DATABASE {name}")
    env = _env(size)
    for command in (["migrate", "--noinput", "-v0"], ["load_reference_data"]):
        subprocess.run([PYTHON, str(REPO / "manage.py"), *command], env=env, check=True)
    os.environ.update(env)
    import django

    django.setup()
    import scale_data

    counts = scale_data.build(db_url(size), size)
    _psql(f"CREATE TABLE bench_built AS SELECT {size} AS size", name)
    rows = ", ".join(f"{t.removeprefix('improvement_')} {n:,}" for t, n in counts.items())
    print(f"Built {size:,} in {time.monotonic() - started:.0f}s: {rows}", flush=True)


# --- the client side ---------------------------------------------------------------------


class Session:
    """A signed-in browser: cookies, CSRF token, timing and the server's query count."""

    def __init__(self, username: str, port: int = PORT):
        self.jar = http.cookiejar.CookieJar()
        self.opener = urllib.request.build_opener(
            urllib.request.HTTPCookieProcessor(self.jar), _NoRedirect()
        )
        self.base = f"http://127.0.0.1:{port}"
        page = self.get("/login/")[2]
        token = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', page).group(1)
        status, _, _ = self.post(
            "/login/", {"username": username, "password": PASSWORD, "csrfmiddlewaretoken": token}
        )
        if status != 302:
            raise RuntimeError(f"Could not sign in as {username}: {status}")

    def csrf(self) -> str:
        return next(c.value for c in self.jar if c.name == "csrftoken")

    def _open(self, request):
        started = time.perf_counter()
        try:
            response = self.opener.open(request, timeout=300)
        except urllib.error.HTTPError as error:
            response = error
        # The whole body, streamed or not, is inside the timing.
        raw = response.read()
        elapsed = (time.perf_counter() - started) * 1000
        queries = int(response.headers.get("X-Bench-Queries", "-1"))
        if response.headers.get("X-Bench-Streamed"):
            queries = f"{queries}+streamed"
        type_ = response.headers.get("Content-Type", "")
        body = raw.decode("utf-8", "replace") if type_.startswith("text/html") else ""
        return response.status, (elapsed, queries), body

    def get(self, path: str):
        return self._open(urllib.request.Request(self.base + path))

    def post(self, path: str, data: dict):
        body = urllib.parse.urlencode(data, doseq=True).encode()
        request = urllib.request.Request(
            self.base + path, data=body, headers={"Referer": self.base + path}
        )
        return self._open(request)


class _NoRedirect(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, *args, **kwargs):
        return None

    def http_error_302(self, req, fp, code, msg, headers):
        return fp

    http_error_301 = http_error_303 = http_error_307 = http_error_302


def _targets(size: int) -> dict:
    """Who asks for what: the largest authority, its busiest owner, one of its actions."""
    name = f"tracker_bench_{size}"
    largest = int(
        _psql(
            "SELECT authority_id FROM improvement_action GROUP BY authority_id "
            "ORDER BY count(*) DESC LIMIT 1",
            name,
        )
    )
    owner_id, owner = _psql(
        "SELECT u.id, u.username FROM improvement_user u JOIN improvement_action a "
        f"ON a.owner_id = u.id WHERE a.authority_id = {largest} "
        "GROUP BY u.id ORDER BY count(*) DESC LIMIT 1",
        name,
    ).split("|")
    detail = _psql(
        f"SELECT id FROM improvement_action WHERE authority_id = {largest} ORDER BY id "
        f"LIMIT 1 OFFSET {min(500, size // 20)}",
        name,
    )
    # One action for the single client and one for each concurrent client: updates of the same
    # action at once are refused as conflicts (optimistic locking), as they should be.
    updates = _psql(
        f"SELECT id FROM improvement_action WHERE owner_id = {owner_id} "
        "AND delivery_status = 'in_progress' AND impact_status = 'not_assessed' "
        f"ORDER BY id LIMIT {CLIENTS + 1}",
        name,
    ).split()
    inspection = _psql(
        f"SELECT id FROM improvement_inspection WHERE authority_id = {largest} "
        "ORDER BY start_date DESC, id DESC LIMIT 1",
        name,
    )
    return {
        "largest": largest,
        "inspection": int(inspection),
        "leader": f"leader-{largest}",
        "owner": owner,
        "detail": int(detail),
        "update": int(updates[0]),
        "updates": [int(pk) for pk in updates[1:]] or [int(updates[0])],
    }


def _pages(t: dict) -> list[tuple[str, str, str, str]]:
    """(label, user, method, path)."""
    return [
        ("floor (trivial view)", "national", "GET", "/bench/floor/"),
        ("national overview", "national", "GET", "/national/"),
        ("largest authority dashboard", "leader", "GET", f"/dashboard/{t['largest']}/"),
        ("actions list", "leader", "GET", "/actions/"),
        ("actions list, 2 filters", "leader", "GET", "/actions/?rag=red&overdue=1"),
        ("actions list, search", "leader", "GET", "/actions/?q=plan"),
        ("actions list, page 500", "leader", "GET", "/actions/?page=500"),
        ("actions list, by title", "leader", "GET", "/actions/?sort=title"),
        ("actions list, by owner", "leader", "GET", "/actions/?sort=owner"),
        ("actions list, by RAG", "leader", "GET", "/actions/?sort=rag"),
        ("actions list, national", "national", "GET", "/actions/"),
        ("action detail", "leader", "GET", f"/actions/{t['detail']}/"),
        ("my actions", "owner", "GET", "/my-actions/"),
        ("quick update POST", "owner", "POST", f"/actions/{t['update']}/update/"),
        ("admin changelist", "admin", "GET", "/admin/improvement/action/"),
        (
            "admin changelist, filtered",
            "admin",
            "GET",
            "/admin/improvement/action/?delivery_status__exact=in_progress",
        ),
        ("admin changelist, search", "admin", "GET", "/admin/improvement/action/?q=plan"),
        ("plain-admin anchor", "admin", "GET", "/bench-admin/improvement/action/"),
        # Pages beside the lists that read the same tables: the largest authority's latest
        # inspection with the actions answering it, its deadline register, its board pack draft,
        # a leader's emails, and the admin's progress notes (5 per action).
        ("inspection page", "leader", "GET", f"/inspections/{t['inspection']}/"),
        ("deadline register", "leader", "GET", "/deadlines/"),
        ("board pack draft", "leader", "GET", f"/packs/authority/{t['largest']}/"),
        ("your emails", "leader", "GET", "/emails/"),
        ("admin progress notes", "admin", "GET", "/admin/improvement/progressnote/"),
        # The same lists for the largest authority's own administrator, whose rows are a tenth
        # of the country's (5 notes and 1 piece of evidence an action).
        (
            "admin progress notes, authority",
            "authority_admin",
            "GET",
            "/admin/improvement/progressnote/",
        ),
        ("admin evidence, authority", "authority_admin", "GET", "/admin/improvement/evidence/"),
        # The action list's export link with the list unfiltered: every action of the authority.
        (bench_report.EXPORT, "leader", "GET", "/actions/export.csv"),
    ]


def _post_update(session: Session, path: str):
    # The form's current version, fetched (untimed) before each timed POST.
    page = session.get(path)[2]
    version = re.search(r'name="version" value="(\d+)"', page).group(1)
    initial = re.search(r'name="milestones_initial" value="([^"]*)"', page)
    data = {
        "csrfmiddlewaretoken": session.csrf(),
        "version": version,
        "milestones_initial": initial.group(1) if initial else "",
        "milestones": [m for m in (initial.group(1) if initial else "").split(",") if m],
        "text": "Benchmark progress note: audit sample completed.",
        "delivery_status": "in_progress",
        "rag": "amber",
    }
    status, timing, body = session.post(path, data)
    if status != 302:
        errors = re.findall(r'govuk-error-message">(.*?)</', body, re.S)
        raise RuntimeError(f"Update POST answered {status}: {errors}")
    return timing


def _request(session: Session, method: str, path: str):
    if method == "POST":
        return _post_update(session, path)
    status, timing, _ = session.get(path)
    if status != 200:
        raise RuntimeError(f"GET {path} answered {status}")
    return timing


def _percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(q * (len(ordered) - 1)))]


def _serve(size: int, port: int, workers: int) -> subprocess.Popen:
    return subprocess.Popen(
        [
            str(Path(PYTHON).parent / "gunicorn"),
            "--bind",
            f"127.0.0.1:{port}",
            "--workers",
            str(workers),
            "--log-level",
            "warning",
            "--timeout",
            str(TIMEOUT),
            "wsgi_bench:application",
        ],
        env=_env(size),
        cwd=REPO,
    )


def _wait_until_up(port: int) -> None:
    for _ in range(900):  # up to 3 minutes: a loaded machine starts workers slowly
        try:
            urllib.request.urlopen(f"http://127.0.0.1:{port}/login/", timeout=2)
            return
        except OSError:
            time.sleep(0.2)


def time_sizes(sizes: list[int], workers: int, pages_spec: str | None = None) -> dict:
    """Every size served at once, each by its own gunicorn, and the single-client requests
    interleaved across the sizes in short runs (five at 1,000, five at 1,000,000, five at 1,000
    again...): a machine that slows down for a while (other work on a shared host) slows every
    size alike, so the ratio between sizes is the data's doing, not the moment's. Runs rather
    than single requests because taking turns request by request made every request start in
    caches the other servers' processes had just used, which no deployment does: with three
    servers' twelve workers taking turns request by request on two cores, the dashboard, the
    filtered list and My actions measured 43-55 ms at 1,000,000, and in runs of five 30-35 ms,
    minutes apart (BENCH_BLOCK=1 gives that way back). The 8-client runs take one size at a
    time, the other servers idle."""
    ports = {size: PORT + i for i, size in enumerate(sizes)}
    servers = {size: _serve(size, ports[size], workers) for size in sizes}
    try:
        for size in sizes:
            _wait_until_up(ports[size])
        targets = {size: _targets(size) for size in sizes}
        users = {
            size: {
                "national": "bench-national",
                "leader": targets[size]["leader"],
                "owner": targets[size]["owner"],
                "admin": "bench-admin",
                "authority_admin": f"admin-{targets[size]['largest']}",
            }
            for size in sizes
        }
        sessions = {
            size: {role: Session(name, ports[size]) for role, name in users[size].items()}
            for size in sizes
        }
        # Each concurrent client's own session, signed in before any timing: eight password
        # hashes at once would otherwise land inside the other clients' timed requests.
        crowds: dict[int, dict[str, list[Session]]] = {size: {} for size in sizes}
        pages = {
            size: bench_report.select_pages(_pages(targets[size]), pages_spec) for size in sizes
        }
        results: dict[int, dict[str, dict]] = {size: {} for size in sizes}
        for index, (label, role, method, _) in enumerate(pages[sizes[0]]):
            export = label == bench_report.EXPORT
            repeats, per_client = (
                (EXPORT_REPEATS, EXPORT_PER_CLIENT) if export else (REPEATS, PER_CLIENT)
            )
            paths = {size: pages[size][index][3] for size in sizes}
            for size in sizes:
                if role not in crowds[size]:
                    crowds[size][role] = [
                        Session(users[size][role], ports[size]) for _ in range(CLIENTS)
                    ]
                # Warm every worker, not only the one or two a single client happens to reach:
                # a worker's first request of a page compiles its templates and may open its
                # database connection, which a server in service has long done. The crowd's
                # round reaches all of them; the single client's then warms its own session.
                if not export:
                    _crowd(crowds[size][role], method, paths[size], 1, targets[size])
                for _ in range(1 if export else 2):
                    _request(sessions[size][role], method, paths[size])
            single: dict[int, list] = {size: [] for size in sizes}
            for start in range(0, repeats, BLOCK):
                for size in sizes:
                    for _ in range(min(BLOCK, repeats - start)):
                        single[size].append(_request(sessions[size][role], method, paths[size]))
            for size in sizes:
                concurrent = _crowd(
                    crowds[size][role], method, paths[size], per_client, targets[size]
                )
                times = [ms for ms, _ in single[size]]
                queries = {q for _, q in single[size]}
                row = results[size][label] = {
                    "p50": statistics.median(times),
                    "p95": _percentile(times, 0.95),
                    "n": len(times),
                    "c_p50": statistics.median(concurrent),
                    "c_p95": _percentile(concurrent, 0.95),
                    "c_n": len(concurrent),
                    "queries": "/".join(str(q) for q in sorted(queries, key=str)),
                }
                print(
                    f"  {size:>9,} {label:<30} p50 {row['p50']:7.1f} ms  "
                    f"p95 {row['p95']:7.1f}  8 clients p95 {row['c_p95']:7.1f}"
                    f"  queries {row['queries']}  "
                    f"({len(times)} one at a time, {CLIENTS} clients x {per_client})",
                    flush=True,
                )
        return results
    finally:
        for server in servers.values():
            server.terminate()
        for server in servers.values():
            server.wait(timeout=30)


def _crowd(crowd: list[Session], method: str, path: str, per_client: int, t: dict) -> list:
    """CLIENTS clients at once, each `per_client` requests: their times."""
    done: list[float] = []
    lock = threading.Lock()
    start = threading.Barrier(CLIENTS)

    def client(n: int) -> None:
        own_path = path
        if method == "POST":
            # Updates of the same action at once are refused as conflicts, as they should be.
            own_path = f"/actions/{t['updates'][n % len(t['updates'])]}/update/"
        start.wait()
        mine = [_request(crowd[n], method, own_path)[0] for _ in range(per_client)]
        with lock:
            done.extend(mine)

    threads = [threading.Thread(target=client, args=(n,)) for n in range(CLIENTS)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return done


def export_memory(size: int) -> list[dict]:
    """The export's peak memory, CSV and XLSX, each untraced (RSS) then under tracemalloc."""
    import export_memory as measure

    runs = []
    for fmt in ("csv", "xlsx"):
        for trace in (False, True) if fmt in TRACE else (False,):
            run = measure.run(size, fmt, trace=trace)
            runs.append(run)
            print(
                f"  {size:>9,} {fmt.upper()} export of {run['rows']:,} rows: "
                f"{run['seconds']:.1f} s, {run['queries']} queries, RSS growth "
                f"{run.get('rss_growth_mb')} MB"
                + (f", tracemalloc peak {run['tracemalloc_peak_mb']} MB" if trace else ""),
                flush=True,
            )
    return runs


def _with_streamed_queries(results: dict[str, dict], runs: list[dict]) -> None:
    """The export's queries happen while it streams, after the counted response headers: the
    in-process run counts them all (request, ids, then 4 per chunk of 2,000 rows)."""
    csv_runs = [r for r in runs if r["format"] == "csv" and "tracemalloc_peak_mb" not in r]
    if bench_report.EXPORT in results and csv_runs:
        results[bench_report.EXPORT]["queries"] = str(csv_runs[0]["queries"])


# The server's settings the README recommends (shared_buffers above all: with the default 128 MB
# a million actions' pages are read through the OS cache, which a busy or memory-managed machine
# empties, and every size is slower and noisier for it).
SERVER_SETTINGS = ("shared_buffers", "effective_cache_size", "work_mem", "random_page_cost", "jit")


def _server_settings() -> str:
    names = ", ".join(f"'{name}'" for name in SERVER_SETTINGS)
    rows = _psql(f"SELECT name, current_setting(name) FROM pg_settings WHERE name IN ({names})")
    settings = dict(row.split("|") for row in rows.splitlines())
    return ", ".join(f"{name} {settings[name]}" for name in SERVER_SETTINGS if name in settings)


def report(results: dict[int, dict[str, dict]], memory: dict[int, list[dict]], workers) -> str:
    parts = [
        f"PostgreSQL ({_server_settings()}), gunicorn {workers} workers (sync, timeout "
        f"{TIMEOUT} s) on 127.0.0.1; one client x {REPEATS} requests, then {CLIENTS} clients x "
        f"{PER_CLIENT} (the CSV export: {EXPORT_REPEATS}, then {CLIENTS} clients x "
        f"{EXPORT_PER_CLIENT}); times in ms",
        bench_report.single_table(results),
        bench_report.concurrent_table(results),
        bench_report.anchor_lines(results),
    ]
    if memory:
        parts.append(bench_report.memory_table(memory))
    return "\n\n".join(parts)


def main(argv: list[str]) -> None:
    command, *rest = argv or ["run"]
    rebuild = "--rebuild" in rest
    pages_spec = None
    for i, arg in enumerate(rest):
        if arg == "--pages" and i + 1 < len(rest):
            pages_spec = rest[i + 1]
        elif arg.startswith("--pages="):
            pages_spec = arg.removeprefix("--pages=")
    with_memory = pages_spec is None or "memory" in pages_spec.lower()
    sizes = [int(a) for a in rest if a.isdigit()] or [1_000, 100_000, 1_000_000]
    if command == "build":
        for size in sizes:
            build(size)
        return
    workers = int(os.environ.get("BENCH_WORKERS", "4"))
    memory = {}
    for size in sizes:
        if rebuild or not built(size):
            subprocess.run([PYTHON, __file__, "build", str(size)], check=True)
    results = time_sizes(sizes, workers, pages_spec)
    # With the servers stopped: each export in a process of its own.
    for size in sizes:
        if with_memory:
            memory[size] = export_memory(size)
            _with_streamed_queries(results[size], memory[size])
    print()
    print(report(results, memory, workers))


if __name__ == "__main__":
    main(sys.argv[1:])
