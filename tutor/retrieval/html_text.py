"""HTML source files: the page's own text as (heading path, text, line) blocks, without the site around it.

Parsed with lxml.html (libxml2's forgiving HTML parser). Before the text is read, boilerplate is dropped: the
elements that are never teaching text (script, style, forms, ...), navigation, site headers and footers,
sidebars, hidden elements, and elements whose ARIA role, class or id say navigation, menu, footer, cookie notice
or banner. A site footer ("Cookie settings", "Privacy") or a cookie banner never becomes a passage. The rule
(`is_boilerplate`) is pure and lives here; the walk over the tree reads headings (h1-h6) as section starts.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from lxml import etree, html

NEVER_TEXT = frozenset({"script", "style", "noscript", "template", "svg", "canvas", "iframe", "object", "form",
                        "button", "select", "textarea", "dialog", "nav", "aside", "footer", "menu"})
"""Elements dropped wherever they are: no teaching text, or navigation, sidebars and footers by their tag."""
LANDMARK_ROLES = frozenset({"navigation", "banner", "contentinfo", "complementary", "search", "menu", "menubar",
                            "dialog", "alertdialog", "toolbar", "tablist"})
"""ARIA roles of the parts of a page around its content (the page's own text has role main, article, region)."""
BOILERPLATE_WORDS = frozenset({"nav", "navbar", "navigation", "menu", "menubar", "footer", "cookie", "cookies",
                               "consent", "gdpr", "banner", "breadcrumb", "breadcrumbs", "sidebar", "skip",
                               "newsletter", "share", "social", "toolbar"})
"""Words in a class or id that mark boilerplate ("site-footer", "cookieBanner", "navbar-main")."""
CONTENT = frozenset({"main", "article", "body", "html"})
BLOCK = frozenset({"p", "div", "li", "br", "tr", "td", "th", "section", "article", "pre", "blockquote", "dd", "dt",
                   "ul", "ol", "dl", "table", "main", "header", "figure", "figcaption", "hr", "details", "summary",
                   "caption", "address"})
HEADING = re.compile(r"h[1-6]")
_WORD = re.compile(r"[A-Z]?[a-z]+|[A-Z]+(?![a-z])")


class PageTooDeep(ValueError):
    """A page the parser cannot read whole; the message says what to do."""


@dataclass
class Block:
    """A section of the page: the headings above it, its paragraphs, and the line its heading is on."""

    path: list[str]
    paragraphs: list[str] = field(default_factory=lambda: [""])
    line: int = 1

    @property
    def text(self) -> str:
        return "\n\n".join(p for p in (" ".join(b.split()) for b in self.paragraphs) if p)


def words_of(value: str) -> set[str]:
    """The lower-case words of a class or id value: "site-footer cookieBanner" -> {site, footer, cookie, banner}."""
    return {w.lower() for w in _WORD.findall(value)}


def is_boilerplate(tag: str, attrs: dict[str, str], *, in_content: bool, holds_content: bool) -> bool:
    """True for an element that is not the page's own text. `in_content`: it sits inside main/article/section (a
    header there is the article's title, kept); `holds_content`: it contains main, article or an h1 (a class such
    as "with-sidebar" on a wrapper does not make the whole page boilerplate)."""
    if tag in NEVER_TEXT or "hidden" in attrs or attrs.get("aria-hidden", "").lower() == "true":
        return True
    if tag == "header" and not in_content:
        return True
    if attrs.get("role", "").lower() in LANDMARK_ROLES:
        return True
    if holds_content or tag in CONTENT:
        return False
    named = words_of(attrs.get("class", "") + " " + attrs.get("id", ""))
    return bool(named & BOILERPLATE_WORDS)


def _drop_boilerplate(root: html.HtmlElement) -> None:
    etree.strip_tags(root, etree.Comment, etree.ProcessingInstruction)  # their tails stay in the text
    doomed = []
    for element in root.iter():
        if not isinstance(element.tag, str):
            continue
        tag = element.tag.lower()
        attrs = {str(k).lower(): str(v) for k, v in element.attrib.items()}
        # the two look-ups walk the tree, so they are made only where the answer can matter
        in_content = tag == "header" and any(isinstance(a.tag, str) and a.tag.lower() in ("main", "article", "section")
                                             for a in element.iterancestors())
        named = bool(words_of(attrs.get("class", "") + " " + attrs.get("id", "")) & BOILERPLATE_WORDS)
        holds = named and next(element.iterdescendants("main", "article", "h1"), None) is not None
        if is_boilerplate(tag, attrs, in_content=in_content, holds_content=holds):
            doomed.append(element)
    for element in doomed:
        element.drop_tree()  # keeps the element's tail (the text after it) in place


def page_blocks(text: str) -> tuple[str, list[Block]]:
    """The page's title and its blocks of text (boilerplate dropped), in order; headings start new blocks."""
    parser = html.HTMLParser(encoding="utf-8", huge_tree=True)  # pages nested past 256 levels are read whole
    try:
        root = html.document_fromstring(text.encode("utf-8"), parser=parser)
    except (etree.ParserError, ValueError):
        return "", []
    if any(e.type_name == "ERR_RESOURCE_LIMIT" for e in parser.error_log):  # text past the limit would be lost
        raise PageTooDeep("the page nests its elements too deeply to be read whole (over 2048 levels); save it as "
                          "Markdown or text, or simplify the HTML")
    title = " ".join((root.findtext(".//title") or "").split())
    body = root.find("body")
    if body is None:
        return title, []
    _drop_boilerplate(body)
    blocks = [Block([])]
    path: list[tuple[int, str]] = []
    heading: html.HtmlElement | None = None
    for event, element in etree.iterwalk(body, events=("start", "end")):
        tag = element.tag.lower() if isinstance(element.tag, str) else ""
        if heading is not None and element is not heading:
            continue  # inside a heading: its text was read whole
        if event == "start":
            if HEADING.fullmatch(tag):
                heading = element
                level, name = int(tag[1]), " ".join(element.text_content().split())
                while path and path[-1][0] >= level:
                    path.pop()
                path.append((level, name))
                blocks.append(Block([h for _, h in path], line=element.sourceline or 1))
                continue
            if tag in BLOCK:
                blocks[-1].paragraphs.append("")
            blocks[-1].paragraphs[-1] += element.text or ""
            continue
        if element is heading:
            heading = None
        elif tag in BLOCK:
            blocks[-1].paragraphs.append("")
        if element is not body:
            blocks[-1].paragraphs[-1] += element.tail or ""
    return title, blocks
