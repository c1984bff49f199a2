"""url_masked: what a person may see of a URL that can carry credentials."""

from portaladmin.core.masking import MASK, url_masked


def test_user_part_and_secret_query_values_are_masked_the_rest_kept():
    shown = url_masked("https://alice:pw123456@files.example.org:8443/a/b.csv?year=2026&client_secret=xyz#top")
    assert shown == f"https://{MASK}@files.example.org:8443/a/b.csv?year=2026&client_secret={MASK}#top"


def test_a_url_without_secrets_is_left_as_it_is():
    url = "https://files.example.org/a%20b.csv?keyword=roads&monkey=1"
    assert url_masked(url) == url


def test_an_unparseable_url_is_shown_with_only_the_redaction_applied():
    assert url_masked("http://[::1/x?apikey=0123456789abcdef") == "http://[::1/x?apikey=[redacted]"
    assert url_masked("") == ""
