"""Human dates and durations: relative with the exact time on hover, in the person's zone; a dash for unknown."""

from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from django.template import Context, Template
from django.utils import timezone

from portaladmin.core.templatetags.humantime import (
    duration,
    duration_text,
    elapsed,
    relative_text,
    when,
    when_text,
)

NOW = datetime(2026, 11, 30, 20, 0, 0, tzinfo=UTC)


@pytest.mark.parametrize("seconds, text", [(0, "0 s"), (12.4, "12 s"), (60, "1 min"), (185, "3 min 5 s"),
                                           (3600 * 2 + 240, "2 h 4 min"), (86400 * 3 + 3600, "3 days 1 h"),
                                           (None, "—")])
def test_durations_read_like_people_say_them(seconds, text):
    assert duration_text(seconds) == text


def test_duration_filter_takes_timedeltas_and_seconds_and_dashes_the_rest():
    assert duration(timedelta(minutes=3, seconds=5)) == "3 min 5 s"
    assert duration(12) == "12 s"
    assert duration(None) == duration("soon") == "—"


@pytest.mark.parametrize("delta, text", [(timedelta(seconds=10), "just now"), (timedelta(minutes=3, seconds=5),
                                         "3 min ago"), (timedelta(hours=5), "5 h ago"),
                                         (-timedelta(minutes=20), "in 20 min"), (timedelta(days=90), "1 Sep 2026")])
def test_relative_text(delta, text):
    assert relative_text(NOW - delta, NOW) == text


def test_when_renders_a_time_element_with_the_exact_local_time_on_hover():
    with timezone.override(ZoneInfo("Europe/Paris")):
        html = str(when("2026-11-30T19:37:23.042Z"))
    assert html.startswith('<time datetime="2026-11-30T19:37:23.042000+00:00" title="2026-11-30 20:37:23 CET">')
    assert "ago</time>" in html or "in " in html


def test_when_dashes_unknown_values_and_escapes_nothing_it_should_not():
    assert when(None) == when("") == when("not a date") == "—"
    rendered = Template("{{ v|when }}").render(Context({"v": "2026-11-30T19:37:23Z"}))
    assert rendered.startswith("<time ")  # a builtin: no {% load %} needed, and marked safe


def test_elapsed_says_how_long_since_a_moment():
    html = str(elapsed(timezone.now() - timedelta(minutes=3, seconds=5)))
    assert html.startswith('<time datetime="') and html.endswith(">3 min 5 s</time>") and 'title="since ' in html
    assert elapsed(None) == "—"


def test_took_tag_between_two_moments():
    out = Template("{% took a b %}|{% took a None %}").render(Context({"a": NOW, "b": NOW + timedelta(seconds=65)}))
    assert out == "1 min 5 s|—"


def test_when_text_is_plain_for_attributes_and_no_template_puts_markup_in_one():
    # QA: a version's "Restore" confirm read `…as it was on <time datetime=`: `when`'s markup ended the attribute.
    import re
    from pathlib import Path

    moment = timezone.now() - timedelta(minutes=12)
    text = when_text(moment)
    assert text.startswith("12 min ago (") and "<" not in text and '"' not in text
    assert when_text(None) == "—"
    root = Path(__file__).resolve().parents[2] / "templates"
    in_attribute = re.compile(r'="[^"<>]*\{\{[^}]*\|(when|elapsed)[ }][^"]*"')
    offenders = [str(p.relative_to(root)) for p in root.rglob("*.html") if in_attribute.search(p.read_text())]
    assert not offenders, f"|when or |elapsed (markup) inside an attribute: {offenders}; use |when_text"
