"""What the HTMX list benchmarks share: a fresh SQLite Django, random catalogue snapshot rows, timed requests, p95.

Used by bench_dataset_list.py and bench_fleet_search.py (run as scripts, so this directory is on sys.path).
"""

from __future__ import annotations

import os
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

WORDS = ("air", "quality", "river", "levels", "trees", "parks", "budget", "schools", "traffic", "bikes", "noise",
         "water", "energy", "housing", "permits", "elections", "museum", "library", "crime", "weather", "census",
         "parking", "waste", "recycling", "buses", "metro", "health", "hospitals", "markets", "events")
STATUSES = ["idle"] * 70 + ["unknown"] * 18 + ["error"] * 5 + ["limit_reached"] * 3 + ["processing"] * 2 + \
           ["queued"] * 2


# What a deployment runs with (DEBUG off: no SQL log kept per query, no template debug data), for benches that time
# requests through the test client and call no portal; the keys are throwaway values only this process sees, and
# the test client speaks plain HTTP, so no redirect to HTTPS.
PRODUCTION_ENV = {"DEBUG": "False", "SECRET_KEY": "bench-" + "x" * 60, "SECURE_SSL_REDIRECT": "False",
                  "PORTALADMIN_KEY_ENCRYPTION_KEYS": "YmVuY2gtb25seS1mZXJuZXQta2V5LTAxMjM0NTY3ODk=",
                  "ALLOWED_HOSTS": "localhost,testserver"}


def _django_up(*, production: bool) -> None:
    """django.setup() and migrate on the environment set above; `production`: a deployment's settings instead."""
    if production:
        os.environ.update(PRODUCTION_ENV)
    import django

    django.setup()
    from django.core.management import call_command

    call_command("migrate", verbosity=0)
    if production:  # a deployment serves the hashed, compressed copies (the Dockerfile runs the same command)
        call_command("collectstatic", interactive=False, verbosity=0)


def django_on_fresh_sqlite(prefix: str, *, production: bool = False) -> None:
    """Set up Django on a new SQLite file in a temporary directory (DATABASE_URL, Redis and broker ignored), migrated."""
    tmp = tempfile.mkdtemp(prefix=prefix)
    for key in ("DATABASE_URL", "REDIS_URL", "CELERY_BROKER_URL"):
        os.environ.pop(key, None)
    os.environ.update({"DJANGO_SETTINGS_MODULE": "portaladmin.settings", "PORTALADMIN_VAR_DIR": tmp,
                       "DEBUG": "True", "LOG_LEVEL": "WARNING"})
    _django_up(production=production)


def scratch_postgres(suffix: str) -> str:
    """Under `make bench` on the real stack (a PostgreSQL BENCH_DATABASE_URL or DATABASE_URL): the URL of a database of
    this bench's own beside the given one, `<name>_<suffix>`, for the benches that need a fresh database (dropped and
    created again by them: the given database is never touched). Empty without PostgreSQL (a fresh SQLite file)."""
    url = os.environ.get("BENCH_DATABASE_URL") or os.environ.get("DATABASE_URL", "")
    if not url.startswith(("postgres://", "postgresql://")):
        return ""
    base, name = url.rsplit("/", 1)
    return f"{base}/{name.split('?')[0]}_{suffix}"


def _postgres_admin(url: str):
    """(the database name of `url`, an autocommit connection to the server's `postgres` database)."""
    import psycopg

    base, name = url.rsplit("/", 1)
    return name.split("?")[0], psycopg.connect(base + "/postgres", autocommit=True)


def ensure_postgres(url: str) -> None:
    """Create the database of `url` when it does not exist yet (a scratch database of the bench's own)."""
    name, connection = _postgres_admin(url)
    with connection as admin:
        if not admin.execute("SELECT 1 FROM pg_database WHERE datname = %s", [name]).fetchone():
            admin.execute(f'CREATE DATABASE "{name}"')


def django_on_fresh_database(prefix: str, suffix: str) -> str:
    """A fresh PostgreSQL database of the bench's own on the real stack (scratch_postgres), else a fresh SQLite
    file. Returns what it is, for the printout."""
    url = scratch_postgres(suffix)
    if url:
        django_on_fresh_postgres(url)
        return f"PostgreSQL, fresh database {url.rsplit('/', 1)[1]}"
    django_on_fresh_sqlite(prefix)
    return "SQLite, fresh file"


def django_on_fresh_postgres(url: str, *, keep: bool = False, production: bool = False) -> None:
    """Set up Django on PostgreSQL `url`, its database dropped and created again first, then migrated.

    Only for a database of its own (the bench's), never one holding anything: everything in it is lost.
    `keep`: use the database as an earlier run of the same bench left it (no drop; migrate only)."""
    if not keep:
        name, connection = _postgres_admin(url)
        with connection as admin:
            admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
            admin.execute(f'CREATE DATABASE "{name}"')
    tmp = tempfile.mkdtemp(prefix="bench-pg-")
    for key in ("REDIS_URL", "CELERY_BROKER_URL"):
        os.environ.pop(key, None)
    os.environ.update({"DJANGO_SETTINGS_MODULE": "portaladmin.settings", "PORTALADMIN_VAR_DIR": tmp,
                       "DATABASE_URL": url, "DEBUG": "True", "LOG_LEVEL": "WARNING"})
    _django_up(production=production)


def random_snapshots(conn, rows: int, rnd, *, now, uid_prefix: str = "da_") -> list:
    """`rows` unsaved DatasetSnapshot rows of `conn` with random words, flags and statuses drawn from `rnd`."""
    from django.utils import timezone

    from portaladmin.datasets.models import DatasetSnapshot
    from portaladmin.datasets.selectors import search_text

    objs = []
    for i in range(rows):
        words = rnd.sample(WORDS, 3)
        dataset_id = f"{words[0]}-{words[1]}-{i}"
        title = f"{words[0].title()} {words[1]} of district {i % 97}"
        keywords = rnd.sample(WORDS, 2)
        objs.append(DatasetSnapshot(
            connection=conn, uid=f"{uid_prefix}{i:06d}", dataset_id=dataset_id, title=title, keywords=keywords,
            description=f"All the {words[0]} {words[1]} data.", publisher="City", license="ODbL", language="en",
            is_restricted=rnd.random() < 0.1, is_published=rnd.random() < 0.6, status=rnd.choice(STATUSES),
            updated_at=now - timezone.timedelta(minutes=rnd.randint(0, 500000)), synced_at=now,
            search=search_text(dataset_id, title, " ".join(keywords))))
    return objs


def list_scenarios(rnd, n: int, *, pages: int, between: dict | None = None) -> dict[str, list[dict]]:
    """`n` query strings per change of a dataset list (search, filter, sort, page, combined), drawn from `rnd`.

    `between` holds a bench's own changes, drawn after "filter" and before "sort" (draw order is part of the seed)."""
    scenarios = {
        "search": [{"q": rnd.choice(WORDS)[: rnd.randint(3, 6)]} for _ in range(n // 2)]
        + [{"q": f"{rnd.choice(WORDS)} {rnd.randint(1, 99)}"} for _ in range(n - n // 2)],
        "filter": [rnd.choice([{"status": "error"}, {"status": "limit_reached"}, {"published": "no"},
                               {"restricted": "yes"}, {"status": "busy", "published": "yes"},
                               {"status": "idle", "restricted": "no", "published": "yes"}]) for _ in range(n)],
    }
    for name, draw in (between or {}).items():
        scenarios[name] = [draw() for _ in range(n)]
    scenarios["sort"] = [{"sort": rnd.choice(["-dataset_id", "title", "-title", "updated", "-updated", "status",
                                              "-status"])} for _ in range(n)]
    scenarios["page"] = [{"page": str(rnd.randint(1, pages))} for _ in range(n)]
    scenarios["combined"] = [{"q": rnd.choice(WORDS)[:4], "status": "idle", "sort": "-updated",
                              "page": str(rnd.randint(1, 5))} for _ in range(n)]
    return scenarios


def measure(client, path, params_list, *, headers, check=None):
    """GET `path` once per params; returns (wall ms, CPU ms of this thread, SQL queries, response bytes) lists.

    Every response must be 200; `check(response)` may assert more."""
    from django.db import connection as db
    from django.test.utils import CaptureQueriesContext

    times, cpu, queries, sizes = [], [], [], []
    for params in params_list:
        db.queries_log.clear()  # past its 9,000 entries the log drops the oldest and the count would read 0
        with CaptureQueriesContext(db) as ctx:
            start, start_cpu = time.perf_counter(), time.thread_time()
            response = client.get(path, params, headers=headers)
            times.append((time.perf_counter() - start) * 1000)
            cpu.append((time.thread_time() - start_cpu) * 1000)
        assert response.status_code == 200, (response.status_code, params)
        if check:
            check(response)
        queries.append(len(ctx.captured_queries))
        sizes.append(len(response.content))
    return times, cpu, queries, sizes


def pct(values, q):
    """The q-th percentile (0–100) of `values`: the value at the rounded index q% of the way through them."""
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(round(q / 100 * (len(ordered) - 1))))]


def logged_in_client(user):
    from django.test import Client

    client = Client(HTTP_HOST="localhost")
    client.force_login(user)
    return client


# --- the real stack: runserver + a celery worker (bench_publish_monitor.py, bench_flaky_publish.py, …) -------------
def stack_urls(args_redis: str = "", args_database: str = "") -> tuple[str, str]:
    """(Redis URL, database URL) for a bench on the real stack: the flags, else BENCH_REDIS_URL/BENCH_DATABASE_URL,
    else REDIS_URL/DATABASE_URL (what `make bench` passes on). Empty: filesystem broker, fresh SQLite file."""
    redis_url = args_redis or os.environ.get("BENCH_REDIS_URL") or os.environ.get("REDIS_URL", "")
    database_url = args_database or os.environ.get("BENCH_DATABASE_URL") or os.environ.get("DATABASE_URL", "")
    return redis_url, database_url


def django_for_stack(tmp: str, *, redis_url: str = "", database_url: str = "", **env) -> None:
    """Set up Django in this process for a bench that starts web and worker processes (which inherit the
    environment): a fresh SQLite file in `tmp` unless `database_url`; Redis as broker and cache when `redis_url`,
    else the filesystem broker in `tmp`. Migrates; the failure e-mails stay off."""
    for name in ("DATABASE_URL", "REDIS_URL", "CELERY_BROKER_URL"):
        os.environ.pop(name, None)
    if redis_url:
        os.environ["REDIS_URL"] = os.environ["CELERY_BROKER_URL"] = redis_url
    if database_url:
        os.environ["DATABASE_URL"] = database_url
    os.environ.update({"PORTALADMIN_VAR_DIR": tmp, "DJANGO_SETTINGS_MODULE": "portaladmin.settings",
                       "JOBS_NOTIFY_ON_FAILURE": "false", **{k: str(v) for k, v in env.items()}})
    os.environ.setdefault("LOG_LEVEL", "WARNING")
    import django

    django.setup()
    from django.conf import settings
    from django.core.management import call_command

    call_command("migrate", verbosity=0)
    settings.JOBS_NOTIFY_ON_FAILURE = False
    (Path(tmp) / "broker" / "queue").mkdir(parents=True, exist_ok=True)
    (Path(tmp) / "broker" / "processed").mkdir(parents=True, exist_ok=True)


def purge_broker() -> None:
    """Empty the Redis queues the worker consumes (a previous run's leftovers would be worked on)."""
    if not os.environ.get("CELERY_BROKER_URL", "").startswith("redis"):
        return
    from portaladmin.celery import app

    with app.connection_for_write() as broker:
        for queue in ("celery", "bulk"):
            try:
                broker.default_channel.queue_purge(queue)
            except Exception:  # noqa: BLE001, S110 - a queue that does not exist yet
                pass


def free_port() -> int:
    import socket

    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def wait_for_port(port: int, *, seconds: float = 20.0) -> None:
    import socket

    end = time.monotonic() + seconds
    while time.monotonic() < end:
        try:
            socket.create_connection(("127.0.0.1", port), timeout=0.2).close()
            return
        except OSError:
            time.sleep(0.1)
    raise RuntimeError(f"nothing listens on port {port} after {seconds:.0f} s")


class Stack:
    """`manage.py runserver` + `celery worker -c N` (queues celery and bulk), stopped on exit; this process plays
    beat. `env` is added to the environment of both; `worker_settings` a settings module for the worker only."""

    def __init__(self, tmp: str, *, name: str, env: dict | None = None, worker_settings: str = "",
                 concurrency: int = 2):
        self.tmp, self.name, self.env, self.concurrency = tmp, name, env or {}, concurrency
        self.worker_settings = worker_settings
        self.port = free_port()
        self.web = self.worker = None

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def __enter__(self) -> Stack:
        import subprocess

        purge_broker()
        env = {**os.environ, "PYTHONUNBUFFERED": "1", "PYTHONPATH": f"{ROOT / 'bench'}:{ROOT}", **self.env}
        self.web = subprocess.Popen([sys.executable, "manage.py", "runserver", f"127.0.0.1:{self.port}", "--noreload"],
                                    cwd=ROOT, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        worker_env = {**env, **({"DJANGO_SETTINGS_MODULE": self.worker_settings} if self.worker_settings else {})}
        self.worker = subprocess.Popen(
            [sys.executable, "-m", "celery", "-A", "portaladmin", "worker", "-c", str(self.concurrency), "-Q",
             "celery,bulk", "--loglevel=WARNING", "-n", f"{self.name}@%h", "--without-gossip", "--without-mingle",
             "--without-heartbeat"], cwd=ROOT, env=worker_env, stdout=subprocess.DEVNULL,
            stderr=open(Path(self.tmp) / f"{self.name}-worker.log", "w"))  # noqa: SIM115
        wait_for_port(self.port)
        return self

    def __exit__(self, *exc) -> None:
        import subprocess

        for proc in (self.worker, self.web):
            if proc is None:
                continue
            proc.terminate()
            try:
                proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                proc.kill()


def sandbox_connection(name: str, base_url: str, key: str):
    """The Connection to sandbox portal `name` (replacing one left by an earlier run on the same database)."""
    from portaladmin.portals.models import Connection

    Connection.objects.filter(slug=name).delete()
    conn = Connection(slug=name, name=name, base_url=f"{base_url}/sandbox/{name}")
    conn.set_api_key(key)
    conn.save()
    return conn


def bench_user():
    from django.contrib.auth import get_user_model

    user_model = get_user_model()
    return user_model.objects.filter(username="bench").first() or \
        user_model.objects.create_superuser("bench", "bench@example.org", "x")
