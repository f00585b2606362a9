"""Plain-text bodies skip the Markdown parser: the shortcut must give exactly the parser's answer."""
from __future__ import annotations

from hypothesis import given, settings
from hypothesis import strategies as st

from chatapp import markup

# Letters, CJK, emoji, punctuation and every character the shortcut must refuse, mixed.
TRICKY = list(" .,;:!?'\"()/-+=#%$^|{}0123456789aZé好的，。🙏*_`~[]\\<>&@\n\r\t\x00\xa0\u3000\u2028")
TEXT = st.text(alphabet=st.sampled_from(TRICKY) | st.characters(codec="utf-8"), max_size=60)
CORPUS = [
    "ok",
    "Thanks. See you Friday",
    "is it open book?",
    "好的，谢谢老师！",
    "  spaced  ",
    'a "quoted" word',
    "it's 5 o'clock",
    "50% off (today)",
    "see example.com",
    "mail me: a@b.co",
    "http://x.y",
    "www.x.org",
    "see //cdn",
    "mailto:x",
    "**bold**",
    "_it_",
    "`code`",
    "1. one",
    "# not a heading",
    "- dash",
    "> quote",
    "a\nb",
    "tab\there",
    "nbsp\xa0here",
    "ideographic\u3000space",
    "ends with a dot.",
    "3.14 and 2.5",
    "@mention",
    "x&y",
    "<b>",
    "pipes | here",
    "{braces}",
    "back\\slash",
    "end  ",
    "\u3000lead",
    "例子。com",
    "Ａ＠Ｂ．ＣＯＭ",
    "ｗｗｗ．google．com",
    "a:b and a/b",
    "\x85next",
]


def _slow(body: str) -> str:
    return markup.sanitize_html(markup._PARSER.render(body)).strip() if body else ""


def test_the_shortcut_gives_the_parsers_answer_on_the_corpus():
    taken = 0
    for body in CORPUS:
        plain = markup._plain_html(body)
        if plain is not None:
            taken += 1
            assert plain == _slow(body), body
    assert taken >= 10  # the shortcut is taken for ordinary lines


@settings(max_examples=1500, deadline=None)
@given(TEXT)
def test_the_shortcut_gives_the_parsers_answer_on_any_text(body):
    plain = markup._plain_html(body)
    if plain is not None:
        assert plain == _slow(body)
    assert markup.render_markdown(body) == _slow(body)
