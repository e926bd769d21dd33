# gunicorn settings for one small server (2 cores, 1–2 GB RAM), behind nginx.
# gthread: several connections per worker, idle keep-alive connections wait in a poller,
# so slow or idle clients cannot starve the others (nginx also buffers whole requests).
from app.serving import gunicorn_on_starting as on_starting  # noqa: F401 - the instance lock

bind = "127.0.0.1:8000"
worker_class = "gthread"
workers = 2
threads = 8
keepalive = 5
timeout = 30
graceful_timeout = 20
max_requests = 2000
max_requests_jitter = 200
accesslog = "-"
forwarded_allow_ips = "127.0.0.1"
