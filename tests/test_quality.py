"""The code stays lint-clean and bandit-clean (every accepted finding is annotated where it occurs)."""

import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
BIN = Path(sys.executable).parent


def run(*cmd):
    return subprocess.run(cmd, cwd=ROOT, capture_output=True, text=True, timeout=300)


def test_ruff_is_clean():
    result = run(str(BIN / "ruff"), "check", "portaladmin", "tests", "bench", "manage.py")
    assert result.returncode == 0, result.stdout + result.stderr


def test_bandit_is_clean():
    result = run(str(BIN / "bandit"), "-q", "-r", "portaladmin")
    assert result.returncode == 0, result.stdout + result.stderr
