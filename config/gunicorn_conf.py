"""gunicorn settings of the web process, used by the image (Dockerfile) and bench/load.py.

Threaded workers: two processes per core, four request threads each. The call page sends a
small request for each answer; threads let those go through while a longer request (a page, a
download) holds a thread of the same process. Measured with bench/load.py: on 2 cores this did
better than 8 single-request (sync) processes. Every value can be set from the environment.
"""

import os

bind = os.environ.get("WEB_BIND", "0.0.0.0:8000")
workers = int(os.environ.get("WEB_WORKERS", str(2 * (os.cpu_count() or 1))))
worker_class = os.environ.get("WEB_WORKER_CLASS", "gthread")
threads = int(os.environ.get("WEB_THREADS", "4"))
timeout = int(os.environ.get("WEB_TIMEOUT_SECONDS", "60"))
graceful_timeout = int(os.environ.get("WEB_GRACEFUL_TIMEOUT_SECONDS", "30"))
# "-" is the standard output; an empty value turns the access log off.
accesslog = os.environ.get("WEB_ACCESS_LOG", "-") or None
loglevel = os.environ.get("WEB_LOG_LEVEL", "info")
