# gunicorn settings for one small server (2 cores, 1–2 GB RAM), behind nginx.
bind = "127.0.0.1:8000"
workers = 2
threads = 2
timeout = 30
graceful_timeout = 20
max_requests = 2000
max_requests_jitter = 200
accesslog = "-"
forwarded_allow_ips = "127.0.0.1"
