"""HTML uploads: the page's own text becomes passages; navigation, site header and footer, sidebar, breadcrumbs,
cookie banner, pagination, hidden dialogs and scripts do not. The page is written like a real public docs page."""

from __future__ import annotations

import html
import shutil
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from tutor.retrieval import preview_paths
from tutor.retrieval.html_text import is_boilerplate, page_blocks, words_of
from tutor.retrieval.ingest import extract_sections

PAGE = Path(__file__).resolve().parents[1] / "fixtures" / "html" / "fractions-docs-page.html"
TITLE = "Adding fractions with unlike denominators"
BOILERPLATE = ["Cookie settings", "Accept all cookies", "We use cookies", "Skip to main content", "Privacy notice",
               "Algebra", "In this section", "Equivalent fractions", "Home", "Previous:", "Next:", "Share on",
               "newsletter", "Was this page helpful", "Last updated", "2026 Maths Help Docs", "Sign in to save",
               "dataLayer", "schema.org", "cookie-consent", "generated from"]


def test_a_docs_page_keeps_its_article_and_nothing_around_it() -> None:
    sections, _ = extract_sections(PAGE, PAGE.name)
    assert [s.heading_path for s in sections] == [
        (TITLE,), (TITLE, "Why a common denominator?"), (TITLE, "Step by step"),
        (TITLE, "Step by step", "Worked example")]
    text = "\n".join(s.text for s in sections)
    for junk in BOILERPLATE:
        assert junk not in text, junk
    assert sections[0].text.startswith("To add fractions whose denominators differ, first rewrite them")
    assert "Add the numerators and keep the denominator" in sections[2].text
    assert sections[3].text.endswith("is a common mistake: 2/7 is smaller than 1/3.")
    assert sections[1].line == PAGE.read_text().splitlines().index("          <h2>Why a common denominator?</h2>") + 1


def test_the_upload_preview_of_the_page_has_no_cookie_or_footer_passage(tmp_path: Path) -> None:
    page = tmp_path / "adding-unlike.html"
    shutil.copy(PAGE, page)
    [preview] = preview_paths(None, [page], course="fractions", skills=["adding-unlike"])
    assert not preview.skipped and len(preview.chunks) == 4
    assert not any("Cookie" in c.text or "cookie" in c.text for c in preview.chunks)
    assert {c.skills for c in preview.chunks} == {("adding-unlike",)}


@pytest.mark.parametrize(("value", "words"), [("site-footer cookieBanner", {"site", "footer", "cookie", "banner"}),
                                             ("navbar_main", {"navbar", "main"}), ("GDPRNotice", {"gdpr", "notice"})])
def test_class_and_id_words(value: str, words: set[str]) -> None:
    assert words_of(value) == words


def test_the_rule_keeps_content_a_class_name_would_drop() -> None:
    assert is_boilerplate("div", {"class": "cookie-consent"}, in_content=False, holds_content=False)
    assert is_boilerplate("div", {"role": "navigation"}, in_content=True, holds_content=True)
    assert is_boilerplate("header", {}, in_content=False, holds_content=True)  # the site header
    assert not is_boilerplate("header", {}, in_content=True, holds_content=True)  # an article's header: its title
    assert not is_boilerplate("div", {"class": "layout with-sidebar"}, in_content=False, holds_content=True)
    assert not is_boilerplate("main", {"class": "menu-page"}, in_content=False, holds_content=False)
    assert not is_boilerplate("p", {"class": "lede"}, in_content=True, holds_content=False)


def test_text_after_a_dropped_element_or_a_comment_stays() -> None:
    _, blocks = page_blocks("<body><h1>T</h1><p>Half <!-- note -->of two<nav>menu</nav> equal parts.</p></body>")
    assert blocks[-1].text == "Half of two equal parts."


def test_a_page_that_is_only_boilerplate_gives_no_sections(tmp_path: Path) -> None:
    page = tmp_path / "cookies.html"
    page.write_text("<html><body><div class='cookie-banner'><p>We use cookies.</p><a>Cookie settings</a></div>"
                    "<footer><p>Cookie settings</p></footer></body></html>")
    [preview] = preview_paths(None, [page], course="fractions")
    assert preview.skipped and "no text to index" in preview.message


def test_a_deeply_nested_page_is_read_whole_or_refused_with_the_reason(tmp_path: Path) -> None:
    nested = tmp_path / "nested.html"
    nested.write_text("<html><body><h1>Deep</h1>" + "<div>" * 1000 + "A half is one of two equal parts."
                      + "</div>" * 1000 + "</body></html>")
    [preview] = preview_paths(None, [nested], course="fractions")
    assert [c.text for c in preview.chunks] == ["A half is one of two equal parts."]
    too_deep = tmp_path / "too-deep.html"
    too_deep.write_text("<html><body><h1>Deep</h1>" + "<div>" * 3000 + "Lost?" + "</div>" * 3000 + "</body></html>")
    [preview] = preview_paths(None, [too_deep], course="fractions")
    assert preview.skipped and "nests its elements too deeply" in preview.message


@given(st.text(st.characters(categories=("L", "N", "P", "S", "Zs")), max_size=200))
def test_the_text_of_a_paragraph_survives_whole_and_the_footer_does_not(text: str) -> None:
    page = f"<html><body><h1>T</h1><p>{html.escape(text)}</p><footer><p>Cookie settings</p></footer></body></html>"
    _, blocks = page_blocks(page)
    assert blocks[-1].path == ["T"]
    assert blocks[-1].text == " ".join(text.split())
