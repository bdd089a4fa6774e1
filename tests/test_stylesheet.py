"""The one stylesheet stays well formed: an unclosed block swallows every rule after it (a media
query left open once hid the agenda's desktop layout)."""

from pathlib import Path

CSS = Path(__file__).resolve().parent.parent / "static" / "css" / "site.css"


def test_every_block_of_the_stylesheet_is_closed():
    depth = 0
    for number, line in enumerate(CSS.read_text().splitlines(), 1):
        depth += line.count("{") - line.count("}")
        assert depth >= 0, f"line {number} closes a block that is not open"
        if line.startswith(("@media", "/*")):
            assert depth <= 1, f"line {number} starts inside a block left open above it"
    assert depth == 0
