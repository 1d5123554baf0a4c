"""Helpers for tests that start real servers on 127.0.0.1."""

import shutil
import socket
import subprocess
import time
import urllib.request
from pathlib import Path


def free_port():
    """A TCP port on 127.0.0.1 that nothing listens on right now."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def wait_until_healthy(base_url, seconds=30):
    """Wait for the site at `base_url` to answer /healthz with 200; False if it never does."""
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        try:
            with urllib.request.urlopen(f"{base_url}/healthz", timeout=2) as response:
                if response.status == 200:
                    return True
        except OSError:
            pass
        time.sleep(0.1)
    return False


NGINX_CONF = """
pid {tmp}/nginx.pid;
error_log {tmp}/nginx-error.log;
events {{}}
http {{
    include /etc/nginx/mime.types;
    access_log {tmp}/nginx-access.log;
    client_body_temp_path {tmp}/nginx-body;
    proxy_temp_path {tmp}/nginx-proxy;
    fastcgi_temp_path {tmp}/nginx-fastcgi;
    uwsgi_temp_path {tmp}/nginx-uwsgi;
    scgi_temp_path {tmp}/nginx-scgi;
    include {base_dir}/docs/nginx/merchex-http.conf;
    server {{
        listen 127.0.0.1:{port};
        include {tmp}/merchex-locations.conf;
    }}
}}
"""


class Nginx:
    """Debian's nginx on a free port of 127.0.0.1 with the README's configuration files
    (docs/nginx/, as shipped but for the locations' two paths), in front of the site
    at `upstream_port`, serving pictures from `media_root`; for a `with` block."""

    def __init__(self, base_dir, folder, media_root, upstream_port):
        self.folder = Path(folder)
        self.port = free_port()
        self.base = f"http://127.0.0.1:{self.port}"
        locations = (Path(base_dir) / "docs" / "nginx" / "merchex-locations.conf").read_text()
        locations = locations.replace("/srv/merchex/media/", f"{media_root}/")
        locations = locations.replace("127.0.0.1:8000", f"127.0.0.1:{upstream_port}")
        (self.folder / "merchex-locations.conf").write_text(locations)
        conf = NGINX_CONF.format(tmp=self.folder, port=self.port, base_dir=base_dir)
        (self.folder / "nginx.conf").write_text(conf)
        self.process = None

    def __enter__(self):
        self.process = subprocess.Popen(
            [shutil.which("nginx") or "/usr/sbin/nginx", "-c", str(self.folder / "nginx.conf")]
            + ["-g", "daemon off; master_process off;"],
            stderr=subprocess.DEVNULL,
        )
        if not wait_until_healthy(self.base, seconds=60):
            self.__exit__()
            raise RuntimeError(f"nginx did not start: see {self.folder / 'nginx-error.log'}")
        return self

    def __exit__(self, *exc):
        self.process.terminate()
        self.process.wait(timeout=10)
