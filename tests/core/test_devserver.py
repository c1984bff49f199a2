"""`make run`'s foreground command: web + worker + beat start together and Ctrl-C stops all three."""

import os
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.mark.live
def test_devserver_starts_three_processes_and_stops_them(tmp_path):
    env = {k: v for k, v in os.environ.items() if k not in ("DATABASE_URL", "REDIS_URL", "DJANGO_SETTINGS_MODULE")}
    env.update({"PORTALADMIN_VAR_DIR": str(tmp_path), "DEBUG": "True", "PORTALADMIN_DEMO_PASSWORD": "demo-pw-42"})
    env.pop("LOG_LEVEL_CELERY_TASKS", None)
    subprocess.run([sys.executable, "manage.py", "migrate", "-v0"], cwd=ROOT, env=env, check=True, timeout=120)
    port = free_port()
    proc = subprocess.Popen([sys.executable, "manage.py", "devserver", "--port", str(port), "--concurrency", "1"],
                            cwd=ROOT, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
                            start_new_session=True)
    try:
        deadline = time.monotonic() + 60
        status = None
        while time.monotonic() < deadline:
            try:
                with urllib.request.urlopen(f"http://127.0.0.1:{port}/healthz/", timeout=2) as response:  # noqa: S310
                    status = response.status
                    break
            except OSError:
                time.sleep(0.5)
        assert status == 200
        children = subprocess.run(["pgrep", "-P", str(proc.pid)], capture_output=True, text=True).stdout.split()
        assert len(children) == 3
        time.sleep(8)  # a few poll ticks (2 s) and sweeps (5 s)
        proc.send_signal(signal.SIGINT)
        output, _ = proc.communicate(timeout=30)
        assert "Stopped web server, worker and beat." in output
        # the login is printed again once everything answers, and routine beat ticks do not flood the console
        assert "Ready: log in at" in output and "/ as admin / demo-pw-42" in output
        assert "jobs.poll_tick[" not in output and "Sending due task" not in output
        assert "stopping the others" not in output  # Ctrl-C is not reported as a crash
        for pid in children:
            assert not Path(f"/proc/{pid}").exists() or "zombie" in Path(f"/proc/{pid}/status").read_text().lower()
    finally:
        if proc.poll() is None:
            os.killpg(proc.pid, signal.SIGKILL)
