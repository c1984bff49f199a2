"""Shared fixtures: the healthchecks-style cast (admin, operator, viewer, outsider) and connections."""

import os

import pytest
from django.contrib.auth import get_user_model

from portaladmin.portals.models import Connection, Membership, Role

CANARY_KEY = "canary-key-6f1d2e9a0b7c4e3f"  # a recognisable key: it must never appear anywhere

pytest_plugins = ["tests.sandbox_fixtures"]  # sandbox_connection, sandbox_clock, no_enqueue for live-HTTP tests


def pytest_report_header(config):
    lines = []
    lines.append("DATABASE_URL set: " + ("yes" if os.environ.get("DATABASE_URL") else
                                         "no (PostgreSQL tests are skipped)"))
    lines.append("REDIS_URL set: " + ("yes" if os.environ.get("REDIS_URL") else
                                      "no (Redis and real-worker tests are skipped)"))
    return lines


@pytest.fixture
def make_connection(db):
    def make(slug="demo", *, name=None, base_url="https://data.example.org", api_key=CANARY_KEY, **extra):
        conn = Connection(slug=slug, name=name or slug.title(), base_url=base_url, **extra)
        conn.set_api_key(api_key)
        conn.save()
        return conn

    return make


@pytest.fixture
def connection(make_connection):
    return make_connection()


@pytest.fixture
def make_user(db):
    def make(username, *, role=None, connection=None, superuser=False, password="pw-Secret-123"):
        user = get_user_model().objects.create_user(username=username, password=password,
                                                    email=f"{username}@example.org", is_superuser=superuser,
                                                    is_staff=superuser)
        if role and connection:
            Membership.objects.create(user=user, connection=connection, role=role)
        return user

    return make


@pytest.fixture
def cast(make_user, connection):
    """One user per role on `connection`, an outsider with no role, and a superuser."""
    return {
        "admin": make_user("alice", role=Role.ADMIN, connection=connection),
        "operator": make_user("oscar", role=Role.OPERATOR, connection=connection),
        "viewer": make_user("vera", role=Role.VIEWER, connection=connection),
        "outsider": make_user("charlie"),
        "superuser": make_user("root", superuser=True),
    }


@pytest.fixture
def client_as(client):
    def login(user):
        client.force_login(user)
        return client

    return login


def needs_redis():
    return pytest.mark.skipif(not os.environ.get("REDIS_URL"), reason="REDIS_URL not set: needs a real Redis")


def needs_postgres():
    return pytest.mark.skipif(not os.environ.get("DATABASE_URL", "").startswith("postgres"),
                              reason="DATABASE_URL not set to PostgreSQL")
