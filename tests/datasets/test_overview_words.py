"""The dataset overview's metadata table says moments in words (with the exact time), other values as they are."""

from datetime import timedelta

from django.utils import timezone

from portaladmin.datasets.remote import _metadata_display


def test_metadata_moments_in_words_other_values_unchanged():
    moment = (timezone.now() - timedelta(hours=3)).strftime("%Y-%m-%dT%H:%M:%S.000Z")
    text = _metadata_display(moment)
    assert text.startswith("3 h ago (") and text.endswith(" UTC)") and "T" not in text.split("(")[1][:16]
    assert _metadata_display("2024-05-01") == "2024-05-01"  # a date alone stays a date
    assert _metadata_display(["a, b", "c"]) == "a, b, c"
    assert _metadata_display(None) == ""
