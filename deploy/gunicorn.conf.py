"""Gunicorn settings for Seminar: `make serve` and deploy/seminar-web.service use this file.

Everything can be tuned from the environment: SEMINAR_BIND, SEMINAR_WORKERS, SEMINAR_THREADS,
SEMINAR_ACCESS_LOG, SEMINAR_LOG_LEVEL. The application itself reads SEMINAR_SQLALCHEMY_DATABASE_URI,
SEMINAR_RATELIMIT_STORAGE_URI and the other SEMINAR_* settings.
"""

import os


def _cores() -> int:
    try:
        return len(os.sched_getaffinity(0))  # the CPUs this process may use (containers, taskset)
    except AttributeError:
        return os.cpu_count() or 1


bind = os.environ.get("SEMINAR_BIND", "127.0.0.1:8000")
# The classic 2 × cores + 1, capped: each worker holds its own database pool.
workers = int(os.environ.get("SEMINAR_WORKERS") or min(2 * _cores() + 1, 12))
# One request at a time per process (sync workers), behind nginx which buffers slow clients: each request
# goes to a free process. With threads (gthread), a process keeps the keep-alive connections it accepted
# and its threads share one GIL: in bench/registration.py, 5 × 2 threads gave a POST p99 of 1.7 s against
# 0.7 s for 5 sync workers, for the same throughput.
threads = int(os.environ.get("SEMINAR_THREADS") or 1)
worker_class = "gthread" if threads > 1 else "sync"
timeout = 30
graceful_timeout = 30
keepalive = 5
# Recycle workers now and then (memory growth in long-lived processes), not all at once.
max_requests = 5000
max_requests_jitter = 500
# No preload: every worker opens its own database and Redis connections after the fork.
preload_app = False

accesslog = os.environ.get("SEMINAR_ACCESS_LOG", "-") or None  # empty: no access log
errorlog = "-"
loglevel = os.environ.get("SEMINAR_LOG_LEVEL", "info")
access_log_format = '%(h)s "%(r)s" %(s)s %(b)s %(M)sms "%(a)s"'


def post_fork(server, worker):
    """Send the application's own log records (and Flask-Limiter's, which reports a Redis outage)
    to stderr next to gunicorn's; with no handler on the root logger they would be dropped.
    Runs in each worker before the application is loaded."""
    import logging

    root = logging.getLogger()
    if not root.handlers:
        handler = logging.StreamHandler()
        handler.setFormatter(logging.Formatter("%(asctime)s [%(process)d] [%(levelname)s] %(name)s: %(message)s"))
        root.addHandler(handler)
        root.setLevel(loglevel.upper())


def post_worker_init(worker):
    """Once the application is loaded in the worker, move its objects to the garbage collector's permanent
    generation (gc.freeze): the full collections that come every so many requests then traverse only what
    requests made, not the whole application. In bench/registration.py without it, the first full collection
    in each worker paused it for hundreds of milliseconds and set the POST p99 (one run, PostgreSQL: p99 323
    ms, max 588 ms; with it 194 and 206 ms)."""
    import gc

    gc.freeze()
