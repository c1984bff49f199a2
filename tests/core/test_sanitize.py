"""The allowlist sanitiser against hostile HTML: whatever comes in, no script runs when it is drawn."""

import pytest

from portaladmin.core.sanitize import clean_html

HOSTILE = [
    "<script>alert(1)</script>",
    "<SCRIPT SRC=https://evil.example/x.js></SCRIPT>",
    '<img src="x" onerror="alert(1)">',
    '<img src="https://ok.example/i.png" onload="alert(1)">',
    '<a href="javascript:alert(1)">x</a>',
    '<a href="JaVaScRiPt&#58;alert(1)">x</a>',
    '<a href="&#106;avascript:alert(1)">x</a>',
    '<a href=" javascript:alert(1)">x</a>',
    '<a href="data:text/html;base64,PHNjcmlwdD5hbGVydCgxKTwvc2NyaXB0Pg==">x</a>',
    '<a href="vbscript:msgbox(1)">x</a>',
    '<svg onload="alert(1)"><script>alert(1)</script></svg>',
    '<math><mtext><table><mglyph><style><img src=x onerror=alert(1)>',
    '<iframe src="https://evil.example"></iframe>',
    '<object data="https://evil.example/x.swf"></object><embed src="x">',
    '<form action="https://evil.example"><input name=a><button>go</button></form>',
    '<p style="background:url(javascript:alert(1))">styled</p>',
    "<style>body{display:none}</style>",
    '<div onmouseover="alert(1)" class="btn" id="messages" hx-get="/logout/" data-confirm="x">hover</div>',
    '<base href="https://evil.example/">',
    '<meta http-equiv="refresh" content="0;url=https://evil.example">',
    "<!--<script>alert(1)</script>-->",
    '<p title="a" ONCLICK="alert(1)">x</p>',
    '"><script>alert(1)</script>',
    '<img src="/logout/">',
]


@pytest.mark.parametrize("text", HOSTILE)
def test_hostile_html_is_defused(text):
    out = clean_html(text).lower()
    for needle in ("<script", "javascript:", "vbscript:", "data:", "onerror", "onload", "onclick", "onmouseover",
                   "<iframe", "<object", "<embed", "<form", "<input", "<style", "style=", "<base", "<meta",
                   "hx-", "data-confirm", 'id="', 'class="', "<svg", "<math", '"/logout/"'):
        assert needle not in out, (text, out)


def test_ordinary_rich_text_survives():
    text = ('<h2>About</h2><p>Counts of <strong>bikes</strong>, <em>daily</em>.</p><ul><li>one</li></ul>'
            '<a href="https://data.example.org/x" title="source">source</a>')
    out = clean_html(text)
    assert "<h2>About</h2>" in out and "<strong>bikes</strong>" in out and "<li>one</li>" in out
    assert 'href="https://data.example.org/x"' in out and 'rel="noopener noreferrer nofollow"' in out


def test_text_content_is_kept_and_escaped():
    assert clean_html("a < b & c") == "a &lt; b &amp; c"
    assert clean_html(None) == "" and clean_html("") == ""


def test_images_are_dropped_since_the_csp_would_block_them_anyway():
    assert clean_html('<p>x<img src="https://ok.example/i.png" alt="a"></p>') == "<p>x</p>"
