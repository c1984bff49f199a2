"""Production settings: check --deploy passes, missing secrets refuse to start, compose file is coherent."""

import importlib
import os
import subprocess
import sys
from pathlib import Path

import pytest
import yaml
from cryptography.fernet import Fernet

ROOT = Path(__file__).resolve().parents[2]


def production_env(**overrides):
    env = {k: v for k, v in os.environ.items() if not k.startswith(("DJANGO_", "PORTALADMIN_", "SECRET", "DEBUG"))}
    env.update({
        "DJANGO_SETTINGS_MODULE": "portaladmin.settings",
        "DEBUG": "False",
        "SECRET_KEY": "x" * 20 + "-production-like-secret-" + "y" * 30,
        "PORTALADMIN_KEY_ENCRYPTION_KEYS": Fernet.generate_key().decode(),
        "ALLOWED_HOSTS": "portaladmin.example.org",
        "PORTALADMIN_VAR_DIR": "/tmp/portaladmin-deploy-check",
    })
    env.update(overrides)
    return {k: v for k, v in env.items() if v is not None}


def manage(*args, env):
    return subprocess.run([sys.executable, "manage.py", *args], cwd=ROOT, env=env, capture_output=True, text=True,
                          timeout=120)


def test_check_deploy_passes_with_production_env():
    result = manage("check", "--deploy", "--fail-level", "WARNING", env=production_env())
    assert result.returncode == 0, result.stdout + result.stderr


@pytest.mark.parametrize("missing", ["SECRET_KEY", "PORTALADMIN_KEY_ENCRYPTION_KEYS"])
def test_production_refuses_to_start_without_secrets(missing):
    result = manage("check", env=production_env(**{missing: None}))
    assert result.returncode != 0
    assert missing in result.stderr


def test_production_disables_sandbox_http_and_private_networks():
    code = ("from django.conf import settings as s; import django; django.setup(); "
            "print(s.SANDBOX_ENABLED, s.PORTALS_ALLOW_HTTP, s.PORTALS_ALLOW_PRIVATE_NETWORKS, s.SESSION_COOKIE_SECURE, "
            "s.SECURE_HSTS_SECONDS > 0)")
    result = subprocess.run([sys.executable, "-c", code], cwd=ROOT, env=production_env(), capture_output=True,
                            text=True, timeout=60)
    assert result.stdout.split() == ["False", "False", "False", "True", "True"], result.stderr


def _compose():
    return yaml.safe_load((ROOT / "docker-compose.yml").read_text())


def test_compose_services_and_health_checks():
    services = _compose()["services"]
    assert {"web", "worker", "beat", "redis", "postgres", "migrate"} <= set(services)
    for name in ("web", "worker", "redis", "postgres"):
        assert "healthcheck" in services[name], name
    assert "--appendonly" in services["redis"]["command"] and "yes" in services["redis"]["command"]
    for name in ("web", "worker", "beat"):
        env = services[name]["environment"]
        assert env["DEBUG"] == "False" and env["DATABASE_URL"].startswith("postgres://")
        assert env["REDIS_URL"].startswith("redis://redis:")
        assert services[name]["depends_on"]["migrate"]["condition"] == "service_completed_successfully"
    assert services["beat"].get("deploy", {}).get("replicas", 1) == 1


def test_compose_commands_name_real_modules_and_commands():
    services = _compose()["services"]
    web = services["web"]["command"]
    assert web[0] == "gunicorn"
    module, attr = web[1].split(":")
    assert hasattr(importlib.import_module(module), attr)
    for name in ("worker", "beat"):
        cmd = services[name]["command"]
        assert cmd[:3] == ["celery", "-A", "portaladmin"]
        assert hasattr(importlib.import_module(cmd[2]), "celery_app")
    assert services["migrate"]["command"] == ["python", "manage.py", "migrate", "--noinput"]
    from django.core.management import get_commands

    assert services["worker"]["healthcheck"]["test"][-1] in get_commands()
    # The worker consumes every queue the app routes to.
    from portaladmin.celery import app

    queues = set(services["worker"]["command"][services["worker"]["command"].index("-Q") + 1].split(","))
    routed = {route.get("queue") for route in (app.conf.task_routes or {}).values() if isinstance(route, dict)}
    assert routed - {None} <= queues


def test_collectstatic_builds_the_manifest_as_the_image_does(tmp_path):
    """DEBUG off serves the hashed copies: every vendored file must survive the manifest storage's rewrite of the
    references inside it (a source map comment naming a file not vendored stopped the image's build)."""
    env = production_env(PORTALADMIN_VAR_DIR=str(tmp_path))
    result = manage("collectstatic", "--noinput", env=env)
    assert result.returncode == 0, result.stdout + result.stderr
    manifest = (tmp_path / "staticfiles" / "staticfiles.json").read_text()
    for name in ("vendor/htmx.min.js", "vendor/pico.min.css", "vendor/chart.umd.min.js"):
        assert f'"{name}"' in manifest


def test_dockerfile_runs_from_source_tree():
    text = (ROOT / "Dockerfile").read_text()
    assert "pip install --no-cache-dir -e ." in text and "collectstatic" in text and "USER portaladmin" in text
    assert "portaladmin.wsgi:application" in text


def test_env_example_lists_every_setting_read_from_the_environment():
    import re

    names = set(re.findall(r'env\.\w+\(\s*"([A-Z_0-9]+)"', (ROOT / "portaladmin" / "settings.py").read_text()))
    documented = set(re.findall(r"^([A-Z_0-9]+)=", (ROOT / ".env.example").read_text(), re.M))
    assert names - documented == set()


# --- the image is production by default (finding: a bare `docker run` fell back to development mode) -----------

def dockerfile_env() -> dict[str, str]:
    """The ENV of the Dockerfile (continuation lines joined), as a container started from it would see."""
    import re
    import shlex

    text = re.sub(r"\\\n", " ", (ROOT / "Dockerfile").read_text())
    env: dict[str, str] = {}
    for line in text.splitlines():
        if line.strip().startswith("ENV "):
            for pair in shlex.split(line.strip()[4:]):
                name, _, value = pair.partition("=")
                env[name] = value
    return env


def settings_in(env: dict) -> subprocess.CompletedProcess:
    code = ("from django.conf import settings as s; "
            "print(s.DEBUG, s.SANDBOX_ENABLED, s.PORTALS_ALLOW_PRIVATE_NETWORKS, s.SECRET_KEY.startswith('dev-only'))")
    base = {"PATH": os.environ.get("PATH", ""), "HOME": os.environ.get("HOME", "/tmp"),
            "SECRET_KEY": "", "PORTALADMIN_KEY_ENCRYPTION_KEYS": ""}  # empty: as in a copied .env.example
    return subprocess.run([sys.executable, "-c", code], cwd=ROOT, env={**base, **env, "PORTALADMIN_VAR_DIR": "/tmp"},
                          capture_output=True, text=True, timeout=60)


def test_dockerfile_defaults_to_production_and_bakes_no_secret():
    env = dockerfile_env()
    assert env["DEBUG"] == "False" and env["PORTALADMIN_DEV_DEFAULTS"] == "False"
    assert env["DJANGO_SETTINGS_MODULE"] == "portaladmin.settings"
    assert not {"SECRET_KEY", "PORTALADMIN_KEY_ENCRYPTION_KEYS"} & set(env)


@pytest.mark.parametrize("extra", [{}, {"DEBUG": ""}, {"DEBUG": "True"},
                                   {"SECRET_KEY": "dev-only-insecure-secret-key-do-not-use-in-production-0123456789",
                                    "PORTALADMIN_KEY_ENCRYPTION_KEYS": Fernet.generate_key().decode()}],
                         ids=["bare-docker-run", "empty-DEBUG", "DEBUG-True", "committed-dev-secret"])
def test_a_bare_container_refuses_to_start_rather_than_use_development_keys(extra):
    result = settings_in({**dockerfile_env(), **extra})
    assert result.returncode != 0, result.stdout
    assert "ImproperlyConfigured" in result.stderr and "SECRET_KEY" in result.stderr


def test_the_container_with_its_secrets_runs_in_production_mode():
    env = {**dockerfile_env(), "SECRET_KEY": "s" * 50, "PORTALADMIN_KEY_ENCRYPTION_KEYS": Fernet.generate_key().decode()}
    result = settings_in(env)
    assert result.stdout.split() == ["False", "False", "False", "False"], result.stderr


def test_a_source_checkout_still_runs_in_development_mode_with_no_configuration():
    result = settings_in({"DJANGO_SETTINGS_MODULE": "portaladmin.settings"})
    assert result.stdout.split() == ["True", "True", "True", "True"], result.stderr
