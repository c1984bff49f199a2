"""Every table a person sees scrolls inside its own box, so a 390 px phone never scrolls the whole page sideways.

The browser test measures a list of pages; this catches a new template with a bare table before anyone opens it
on a phone (QA found the templates, datasources, API keys and bulk metadata preview tables overflowing)."""

import re
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
# The charts' numbers for screen readers: a small two-or-three column table that fits.
EXEMPT = {"chart-table"}


def test_every_table_is_inside_a_table_scroll_box():
    bare = []
    for path in sorted((ROOT / "templates").rglob("*.html")):
        text = path.read_text()
        for match in re.finditer(r"<table\b[^>]*>", text):
            if any(name in match.group() for name in EXEMPT):
                continue
            # The opening of the box stands right before the table (same line or the line above).
            before = text[max(0, match.start() - 200):match.start()]
            if 'class="table-scroll"' not in before.splitlines()[-1] + (before.splitlines()[-2:-1] or [""])[0]:
                bare.append(f"{path.relative_to(ROOT)}:{text[:match.start()].count(chr(10)) + 1}")
    assert not bare, f"tables outside a .table-scroll box: {bare}"
