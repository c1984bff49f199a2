"""The overview's cards built in Python (fleet/cards.py) give the HTML the template loop gave, for every branch."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.template import engines
from django.utils import timezone

from portaladmin.audit.models import AuditEvent
from portaladmin.fleet.cards import card_html
from portaladmin.fleet.selectors.overview import Card, Figure
from portaladmin.portals.models import Connection, Role

# The former loop body of templates/fleet/overview.html, verbatim, but for one fix: a never-synced card no longer
# says "Statuses: 0 of None checked" (the status-knowledge line is left out when the total is unknown).
FORMER_CARDS = """{% load humanize %}{% for card in cards %}{% with c=card.connection %}
    <article id="card-{{ c.slug }}" data-connection="{{ c.slug }}">
      <header>
        <strong><a href="{{ card.list_url }}">{{ c.name }}</a></strong>
        <span class="badge badge-{{ card.role }}">{{ card.role }}</span>
        <span class="badge badge-{{ c.health }}" data-health="{{ c.health }}">{{ c.get_health_display }}</span>
      </header>
      <p class="small" data-part="health">
        {% if c.last_ok_at %}Last successful call {{ c.last_ok_at|when }}{% else %}No successful call yet{% endif %}{% if c.last_latency_ms is not None %} · {{ c.last_latency_ms }} ms{% endif %}
        {% if c.health != "ok" and c.health_message %}<br><span class="badge badge-error">problem</span> {{ c.health_message|truncatechars:200 }}{% endif %}
        {% if c.key_too_old %}<br><span class="badge badge-warning" data-flag="key-age">old key</span> the API key is {{ c.key_age_days }} days old: replace it{% endif %}
        {% if c.paused_until and c.paused_until > now %}<br><span class="badge badge-warning">rate-limited</span> until {{ c.paused_until|time:"H:i:s" }}{% endif %}
      </p>
      <div class="figures">
        {% for f in card.figures %}<a href="{{ f.url }}" data-figure="{{ f.label|slugify }}"{% if f.tone %} class="badge-{{ f.tone }}"{% endif %}><strong>{{ f.value|default_if_none:"—" }}</strong>{{ f.label }}</a>{% endfor %}
      </div>
      {% if card.unknown_reason %}<p class="small muted" data-part="unknown">{{ card.unknown_reason|truncatechars:200 }}</p>{% endif %}
      {% if card.datasets.total is not None %}<p class="small muted" data-part="status-knowledge">Statuses: {{ card.datasets.checked|intcomma }} of {{ card.datasets.total|intcomma }} checked{% if card.datasets.oldest_check %}, oldest {{ card.datasets.oldest_check|when }}{% endif %}{% if card.datasets.unknown %} · <a href="{{ card.unchecked_url }}">{{ card.datasets.unknown|intcomma }} not checked yet</a>{% endif %}</p>{% endif %}
      <p class="small" data-part="jobs">Jobs:
        {% for f in card.job_figures %}<a href="{{ f.url }}" data-figure="jobs-{{ f.tone }}" class="badge badge-{{ f.tone }}">{{ f.value }} {{ f.label }}</a> {% empty %}<span class="muted">none running or failed</span>{% endfor %}
      </p>
      <footer class="small muted">
        {% if card.synced_at %}Catalogue synced {{ card.synced_at|when }}{% else %}Catalogue not synced yet{% endif %}
        · {% if card.harvesters.refreshed_at %}{{ card.harvesters.total }} harvester{{ card.harvesters.total|pluralize }} ({{ card.harvesters.running }} running), checked {{ card.harvesters.refreshed_at|when }}{% else %}harvesters not checked yet{% endif %}
        {% if card.harvesters.refresh_error %}<br><span class="badge badge-error">harvesters</span> {{ card.harvesters.refresh_error|truncatechars:160 }}{% endif %}
        <br><span data-part="activity">Last activity:
        {% if card.last_event %}<a href="{{ card.activity_url }}">{{ card.last_event.actor_name|default:"system" }} · <span class="mono">{{ card.last_event.action }}</span> {{ card.last_event.target|truncatechars:40 }}</a>, {{ card.last_event.created_at|when }}{% if card.last_event.outcome != "success" %} <span class="badge badge-failure">failed</span>{% endif %}{% else %}none{% endif %}</span>
      </footer>
    </article>
  {% endwith %}{% endfor %}"""  # noqa: E501


def _cards(now):
    healthy = Connection(pk=1, slug="lyon", name="Lyon", health="ok", last_ok_at=now - timedelta(minutes=3),
                         last_latency_ms=123, key_stored_at=now - timedelta(days=10))
    broken = Connection(pk=2, slug="b-2", name='Town <"Hall"> & co', health="auth_failed",
                        health_message="<script>x</script> refused " * 20, key_created_at=now - timedelta(days=400),
                        paused_until=now + timedelta(minutes=2))
    quiet = Connection(pk=3, slug="q", name="Quiet", health="ok", health_message="stale note",
                       paused_until=now - timedelta(minutes=2))
    figures = [Figure("datasets", 20000, "/c/lyon/datasets/"), Figure("published", 0, "/c/lyon/datasets/?published=yes"),
               Figure("in error", 12, "/c/lyon/datasets/?status=error&x=<1>", "error"),
               Figure("harvesters with errors", None, "/fleet/harvesters/?connection=lyon&health=errors")]
    return [
        Card(connection=healthy, role=Role.OPERATOR,
             datasets={"total": 20000, "checked": 18766, "unknown": 1234, "oldest_check": now - timedelta(hours=5),
                       "synced_at": now - timedelta(minutes=1)},
             harvesters={"total": 1, "with_errors": 0, "running": 0, "refreshed_at": now - timedelta(minutes=9),
                         "refresh_error": "The portal said <no> " * 12},
             jobs={}, last_event=AuditEvent(actor_name="", action="dataset.publish", target="da_" + "x" * 60,
                                            created_at=now - timedelta(seconds=30), outcome="success"),
             figures=figures, unchecked_url="/c/lyon/datasets/?status=unknown",
             job_figures=[Figure("running", 2, "/jobs/?connection=lyon&status=running", "running"),
                          Figure("failed", 1, "/jobs/?connection=lyon&status=failed", "failed")],
             list_url="/c/lyon/datasets/", activity_url="/activity/?connection=lyon"),
        Card(connection=broken, role=Role.ADMIN,
             datasets={"total": None, "checked": 0, "unknown": 0, "oldest_check": None, "synced_at": None},
             harvesters={"total": 0, "with_errors": 0, "running": 0}, jobs={},
             last_event=AuditEvent(actor_name="ann <a>", action="portal.test", target="",
                                   created_at=now - timedelta(days=3), outcome="failure"),
             figures=[Figure("datasets", None, "/c/b-2/datasets/")], unknown_reason="Auth failed: <401> " * 20,
             list_url="/c/b-2/datasets/", activity_url="/activity/?connection=b-2"),
        Card(connection=quiet, role=Role.VIEWER,
             datasets={"total": 0, "checked": 0, "unknown": 0, "oldest_check": None, "synced_at": now},
             harvesters={"total": 0, "with_errors": 0, "running": 0, "refreshed_at": now}, jobs={},
             last_event=None, list_url="/c/q/datasets/", activity_url="/activity/?connection=q"),
    ]


@pytest.mark.parametrize("zone", ["UTC", "Pacific/Auckland"])
def test_cards_match_the_former_template(zone):
    now = timezone.now()
    cards = _cards(now)
    with timezone.override(zone):
        new = "".join(card_html(card, now=now) for card in cards)
        former = engines["django"].from_string(FORMER_CARDS).render({"cards": cards, "now": now})
    assert new == former
    assert "&lt;script&gt;" in new and "<script>" not in new  # the portal's text is escaped
    assert "old key" in new and "rate-limited" in new and "20000" in new and "18,766 of 20,000" in new
    assert "of None" not in new and new.count('data-part="status-knowledge"') == 2
