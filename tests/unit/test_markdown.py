"""Fathom's Markdown summary, rendered for the notes page: formatted, and never a way in."""

from prepskul.web.markdown import markdown_html


def test_headings_lists_and_emphasis_are_rendered() -> None:
    html = str(markdown_html("## Summary\nWe worked on **fractions**.\n\n## Next steps\n"
                         "- Finish exercise 4"))
    assert "<h2>Summary</h2>" in html and "<strong>fractions</strong>" in html
    assert "<li>Finish exercise 4</li>" in html
    assert "##" not in html


def test_markup_and_scripts_in_the_summary_are_shown_as_text_or_dropped() -> None:
    html = str(markdown_html('<script>alert(1)</script>\n\n<img src=x onerror="alert(2)">\n\n'
                         "[click](javascript:alert(3)) [ok](https://prepskul.com)"))
    assert "<script" not in html and "<img" not in html  # escaped: shown as text
    assert 'href="javascript' not in html  # not a link
    assert 'href="https://prepskul.com"' in html and "noopener" in html


def test_no_summary_renders_nothing() -> None:
    assert markdown_html(None) == "" and markdown_html("") == ""
