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


def _env(tmp_path) -> dict:
    env = {k: v for k, v in os.environ.items() if k not in ("DATABASE_URL", "REDIS_URL", "DJANGO_SETTINGS_MODULE")}
    env.update({"PORTALADMIN_VAR_DIR": str(tmp_path), "DEBUG": "True", "PORTALADMIN_DEMO_PASSWORD": "demo-pw-42"})
    return env


def test_a_port_held_by_a_listening_program_is_taken_and_a_closed_one_is_free():
    from portaladmin.core.management.commands.devserver import port_free, wait_for_port

    with socket.socket() as holder:
        holder.bind(("127.0.0.1", 0))
        holder.listen()
        port = holder.getsockname()[1]
        assert not port_free("127.0.0.1", port)
        ticks = iter(range(100))
        assert not wait_for_port("127.0.0.1", port, seconds=3, sleep=lambda _s: None, clock=lambda: next(ticks))
    assert port_free("127.0.0.1", port)


def test_a_connection_left_in_time_wait_does_not_count_as_taking_the_port():
    """What a server stopped a moment ago leaves (its closed connections) must not keep the next run out."""
    from portaladmin.core.management.commands.devserver import port_free

    with socket.socket() as server:
        server.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        server.bind(("127.0.0.1", 0))
        server.listen()
        port = server.getsockname()[1]
        client = socket.create_connection(("127.0.0.1", port))
        accepted, _ = server.accept()
        accepted.close()  # the server side closes first: its end stays in TIME_WAIT
        client.close()
    assert port_free("127.0.0.1", port)


@pytest.mark.live
def test_a_port_taken_by_another_program_is_said_plainly(tmp_path):
    env = _env(tmp_path)
    with socket.socket() as holder:
        holder.bind(("127.0.0.1", 0))
        holder.listen()
        port = holder.getsockname()[1]
        done = subprocess.run([sys.executable, "manage.py", "devserver", "--port", str(port)], cwd=ROOT, env=env,
                              capture_output=True, text=True, timeout=60)
    assert done.returncode == 1
    assert f"Port {port} on 127.0.0.1 is already in use by another program" in done.stderr
    assert f"PORT={port + 1} make run" in done.stderr
    assert "Traceback" not in done.stderr + done.stdout and "is running at" not in done.stdout


@pytest.mark.live
def test_restarted_right_after_ctrl_c_it_starts_again(tmp_path):
    env = _env(tmp_path)
    subprocess.run([sys.executable, "manage.py", "migrate", "-v0"], cwd=ROOT, env=env, check=True, timeout=120)
    port = free_port()

    def start():
        return subprocess.Popen([sys.executable, "manage.py", "devserver", "--port", str(port), "--concurrency", "1"],
                                cwd=ROOT, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
                                start_new_session=True)

    def answers() -> bool:
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            try:
                with urllib.request.urlopen(f"http://127.0.0.1:{port}/healthz/", timeout=2) as response:  # noqa: S310
                    return response.status == 200
            except OSError:
                time.sleep(0.3)
        return False

    first = start()
    try:
        assert answers()
        kept = socket.create_connection(("127.0.0.1", port))  # a browser's keep-alive connection
        kept.sendall(b"GET /healthz/ HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n")
        kept.recv(1024)
        children = subprocess.run(["pgrep", "-P", str(first.pid)], capture_output=True, text=True).stdout.split()
        os.killpg(first.pid, signal.SIGINT)  # Ctrl-C in a terminal: the whole process group
        output, _ = first.communicate(timeout=30)
        kept.close()
        assert "Stopped web server, worker and beat." in output and "Traceback" not in output
        for pid in children:
            assert not Path(f"/proc/{pid}").exists() or "zombie" in Path(f"/proc/{pid}/status").read_text().lower()
        second = start()  # at once
        assert answers()
        os.killpg(second.pid, signal.SIGINT)
        output, _ = second.communicate(timeout=30)
        assert "already in use" not in output and "Stopped web server, worker and beat." in output
    finally:
        for proc in (first, locals().get("second")):
            if proc is not None and proc.poll() is None:
                os.killpg(proc.pid, signal.SIGKILL)
