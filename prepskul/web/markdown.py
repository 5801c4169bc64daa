"""Fathom's lesson summary is Markdown written from what people said in the lesson: shown as
HTML, it must never carry markup of its own. markdown-it-py (CommonMark) renders it with raw
HTML off, and nh3 (the Ammonia sanitiser) keeps only the tags a summary needs, so even a
renderer bug cannot put a script or an event handler on the page."""

from __future__ import annotations

import nh3
from markdown_it import MarkdownIt
from markupsafe import Markup

RENDERER = MarkdownIt("commonmark", {"html": False, "linkify": False})
TAGS = {"h1", "h2", "h3", "h4", "h5", "h6", "p", "ul", "ol", "li", "strong", "em", "code",
        "pre", "blockquote", "a", "br", "hr"}


def markdown_html(text: str | None) -> Markup:
    """Safe HTML for a template (links keep only http(s) and mailto, and open nothing
    with our page's privileges)."""
    if not text:
        return Markup("")
    clean = nh3.clean(RENDERER.render(text), tags=TAGS, attributes={"a": {"href", "title"}},
                      url_schemes={"http", "https", "mailto"},
                      link_rel="noopener noreferrer nofollow")
    return Markup(clean)  # sanitised by nh3 just above
