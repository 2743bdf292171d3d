"""gunicorn settings for the dashboard: `gunicorn -c deploy/gunicorn.conf.py dashboard.wsgi:server`.

Read from Vigie's own settings (`config.settings.load_settings`, so a bad value stops the start
naming it): the address (VIGIE_HOST, VIGIE_PORT), the workers (VIGIE_WEB_WORKERS, default 4) and
their threads (VIGIE_WEB_THREADS, default 2), the logging (VIGIE_LOG_FORMAT, VIGIE_LOG_LEVEL).
gunicorn's error and access logs and the `vigie.*` loggers of every worker go through one
formatter to stderr (`vigie.logs`); plain lines or JSON.
Options given on gunicorn's command line win over these (e.g. ``--bind unix:/run/vigie/web.sock``).
No scheduler runs in a worker: `vigie collect` is the only scheduler process.
"""

from config.settings import load_settings
from vigie.logs import gunicorn_logconfig

_settings = load_settings()

wsgi_app = "dashboard.wsgi:server"
bind = [f"{_settings.host}:{_settings.port}"]
workers = _settings.ops.web_workers
# Live pages poll every few seconds: threads keep a slow callback from blocking the others, but a
# worker's threads share one core (Python's lock), and each of them waits for it after every database
# round trip. `make load` (50 walls, 20 agents): callbacks in the server p50/p95 100/302 ms at 4
# threads, 51/148 ms at 2, 22/72 ms at 1. More cores: more workers, not more threads.
worker_class = "gthread"
threads = _settings.ops.web_threads
timeout = 60  # a worker silent this long is killed and replaced
graceful_timeout = 30  # on SIGTERM, requests in flight get this long to finish
keepalive = 5
# Request line and headers only: bodies are limited by the app itself.
limit_request_line = 8190
accesslog = "-"  # access lines through the same formatter (gunicorn.access), to stderr
# The path without its query string (%(U)s, not the request line %(r)s) and no Referer: a wall screen's
# link carries its kiosk token (?kiosk=), which must not reach the logs.
access_log_format = '%(h)s %(l)s %(u)s %(t)s "%(m)s %(U)s %(H)s" %(s)s %(b)s "%(a)s" %(M)sms'
errorlog = "-"
loglevel = _settings.log_level.lower()
logconfig_dict = gunicorn_logconfig(_settings)
capture_output = False
proc_name = "vigie-web"
# gunicorn believes no X-Forwarded-* header itself: Vigie's middleware (dashboard/proxies.py, from
# VIGIE_TRUSTED_PROXIES) is the one place that does.
forwarded_allow_ips = ""
