"""The safe Markdown subset: a message body (the source) rendered to sanitized HTML.

markdown-it-py parses a restricted preset (bold, italics, inline code, fenced code blocks,
links, bare URLs, line breaks; no raw HTML, no images, no headings or lists, which in
a chat would turn "# 1" or "- yes" into layout), then nh3 keeps only the tags that preset
produces. Both steps matter: the parser decides what Markdown means, the sanitizer
guarantees what can reach a page whatever the parser (or a future option) emits.
"""
from __future__ import annotations

import functools
import html
import re

import nh3
from markdown_it import MarkdownIt
from markdown_it.rules_core import StateCore
from markdown_it.token import Token

# The tags the preset below can produce, and nothing else.
ALLOWED_TAGS = {"p", "br", "strong", "em", "code", "pre", "a", "span"}
# "class" is not listed here: allowed_classes alone governs it (nh3 refuses both).
ALLOWED_ATTRIBUTES = {"a": {"href"}, "*": set()}  # "*": no generic attributes (title, lang) either
ALLOWED_CLASSES = {"span": {"mention"}}
URL_SCHEMES = {"http", "https", "mailto"}
# Links leave the app in a new tab that cannot reach back (window.opener) nor tell where it came from.
LINK_REL = "noopener noreferrer nofollow"

# @username as accounts spell usernames; not inside an e-mail address (a@b.c) or a word.
MENTION_RE = re.compile(r"(?<![\w@.])@([A-Za-z0-9][A-Za-z0-9_.-]{2,31})")
# Sentence punctuation after a mention ("thanks @bob.") is not part of the name.
_TRAILING = ".-"


def _parser() -> MarkdownIt:
    parser = MarkdownIt("zero", {"breaks": True, "html": False, "linkify": True, "typographer": False})
    parser.enable(["emphasis", "backticks", "fence", "link", "newline", "escape", "autolink", "linkify"])
    parser.core.ruler.push("mentions", _mark_mentions)
    return parser


def mention_names(body: str) -> list[str]:
    """The usernames @mentioned in body, lower-cased, in order of first appearance.

    Exactly the ones the rendering marks: not inside code, links or e-mail addresses.
    """
    seen: dict[str, None] = {}
    for block in _PARSER.parse(body):
        for token in block.children or ():
            name = (token.meta or {}).get("mention")
            if name and len(name) >= 3:
                seen.setdefault(name.lower(), None)
    return list(seen)


def _mention_tokens(text: str, state: StateCore) -> list[Token] | None:
    """text split into text tokens and mention spans; None when it mentions nobody."""
    pieces: list[Token] = []
    position = 0
    for match in MENTION_RE.finditer(text):
        name = match.group(1).rstrip(_TRAILING)
        start, end = match.start(), match.start() + 1 + len(name)
        if start > position:
            pieces.append(_text_token(text[position:start], state))
        span = Token("html_inline", "", 0)
        # Built here, escaped here; nh3 checks it again with everything else.
        span.content = f'<span class="mention">@{html.escape(name)}</span>'
        span.meta = {"mention": name}
        pieces.append(span)
        position = end
    if not pieces:
        return None
    if position < len(text):
        pieces.append(_text_token(text[position:], state))
    return pieces


def _text_token(content: str, state: StateCore) -> Token:
    token = Token("text", "", 0)
    token.content = content
    return token


def _mark_mentions(state: StateCore) -> None:
    """Core rule: wrap @name in text (not in code, not in links) in <span class="mention">."""
    for block in state.tokens:
        if block.type != "inline" or not block.children:
            continue
        children: list[Token] = []
        link_depth = 0
        for token in block.children:
            if token.type == "link_open":
                link_depth += 1
            elif token.type == "link_close":
                link_depth -= 1
            replaced = _mention_tokens(token.content, state) if token.type == "text" and link_depth == 0 else None
            children.extend(replaced or [token])
        block.children = children


_PARSER = _parser()


def sanitize_html(fragment: str) -> str:
    """Keep only the tags, attributes, classes and URL schemes of the Markdown subset."""
    return nh3.clean(
        fragment,
        tags=ALLOWED_TAGS,
        attributes=ALLOWED_ATTRIBUTES,
        allowed_classes=ALLOWED_CLASSES,
        url_schemes=URL_SCHEMES,
        url_relative="deny",
        link_rel=LINK_REL,
        set_tag_attribute_values={"a": {"target": "_blank"}},
        strip_comments=True,
    )


# A body none of the enabled rules can touch: no emphasis, code, link, escape, autolink or
# mention character, no line break, no scheme ("//", "mailto:") and no dot before a letter or
# digit (linkify's bare domains such as example.com); nor "&", "<", ">" or a character the
# parser or sanitizer rewrites (controls). Most chat lines are like this.
_PLAIN_RE = re.compile(r"[^*_`~\[\]\\<>&@\x00-\x1f\x7f-\x9f]*")
# ...and no whitespace but the plain space (the parser trims some kinds, the sanitizer rewrites others).
_LINKISH_RE = re.compile(r"//|mailto:|\.\w|[^\S ]", re.IGNORECASE)


def _plain_html(body: str) -> str | None:
    """The rendering of a body that holds no Markdown: one paragraph of its text; None for any other body."""
    if _PLAIN_RE.fullmatch(body) is None or _LINKISH_RE.search(body) is not None:
        return None
    text = body.strip(" ")
    return f"<p>{text}</p>" if text else ""


@functools.lru_cache(maxsize=4096)
def render_markdown(body: str) -> str:
    """The sanitized HTML of a message body (cached: history pages render the same bodies again and again)."""
    if not body:
        return ""
    plain = _plain_html(body)  # the parser's answer for plain text, at a fraction of its cost
    if plain is not None:
        return plain
    return sanitize_html(_PARSER.render(body)).strip()
