"""newsletter/render/postprocess.py: MJML's boilerplate that no targeted client needs goes, and
nothing else changes (docs/theme.md lists each removal and why)."""
from __future__ import annotations

import re

from mjml import mjml2html

from newsletter.render.mjml import NO_WEB_FONTS, to_html
from newsletter.render.postprocess import postprocess

MJML = """<mjml><mj-head><mj-preview>Preview</mj-preview></mj-head><mj-body>
<mj-section><mj-column>
  <mj-image src="https://x.org/a.png" alt="A" href="https://x.org/" width="200px" />
  <mj-text><p>Text that says outline:none; and #outlook a { padding: 0; } and target="_blank" as words.</p></mj-text>
  <mj-button href="https://x.org/go">Go</mj-button>
</mj-column></mj-section></mj-body></mjml>"""


def raw() -> str:
    return mjml2html(MJML, disable_comments=True, fonts=NO_WEB_FONTS)


def test_the_boilerplate_is_there_before() -> None:
    """The control: MRML writes every piece the post-processing takes out."""
    html = raw()
    assert "#outlook a { padding: 0; }" in html
    assert "outline: none;" in html and "outline:none;" in html
    assert html.count('target="_blank"') >= 3        # image link, button, the text's words
    assert "table.mj-full-width-mobile" in html
    assert "opacity:0;" in html                      # MJML's own hidden preview text


def test_what_no_client_needs_is_removed() -> None:
    html = to_html(MJML)
    css = " ".join(re.findall(r"<style[^>]*>(.*?)</style>", html, re.S))
    styles = " ".join(re.findall(r'style="([^"]*)"', html))
    assert "#outlook" not in css
    assert "outline" not in css and "outline" not in styles
    assert not re.search(r'<a\b[^>]*target=', html)
    assert "mj-full-width-mobile" not in html
    hidden = next(s for s in re.findall(r'style="([^"]*)"', html) if "display:none" in s)
    assert "opacity" not in hidden
    assert "max-height:0" in hidden and "overflow:hidden" in hidden


def test_the_text_and_everything_else_stay() -> None:
    before, after = raw(), to_html(MJML)
    assert 'Text that says outline:none; and #outlook a { padding: 0; } and target="_blank" as words.' in after
    for kept in ("-webkit-text-size-adjust: 100%", "-ms-text-size-adjust: 100%", "mso-table-lspace: 0pt",
                 "-ms-interpolation-mode: bicubic", "@media only screen and (min-width:480px)",
                 ".moz-text-html .mj-column-per-100", "<!--[if mso | IE]>", "<o:OfficeDocumentSettings>",
                 "border-radius:3px", "word-break:break-word", 'role="presentation"'):
        assert kept in before and kept in after, kept
    # Removing the pieces from MRML's output gives exactly the post-processed HTML.
    words = 'Text that says outline:none; and #outlook a { padding: 0; } and target="_blank" as words.'
    expected = before.replace(words, "WORDS").replace("#outlook a { padding: 0; }\n", "").replace("outline: none; ", "")
    expected = expected.replace("outline:none;", "").replace(' target="_blank"', "")
    expected = re.sub(r'<style type="text/css">@media only screen and \(max-width:479px\) \{\s*table\.mj-full-width-mobile'
                      r'[^<]*</style>', "", expected)
    expected = re.sub(r'(style="display:none;[^"]*?)opacity:0;', r"\1", expected)
    assert after == expected.replace("WORDS", words)


def test_opacity_stays_where_it_is_the_only_way_to_hide() -> None:
    html = '<div style="opacity:0;color:red">a</div><div style="display:none;opacity:0">b</div>'
    assert postprocess(html) == html


def test_the_phone_rule_stays_when_an_image_uses_it() -> None:
    fluid = MJML.replace('width="200px" />', 'width="200px" fluid-on-mobile="true" />')
    html = to_html(fluid)
    assert 'class="mj-full-width-mobile"' in html and "table.mj-full-width-mobile" in html


def test_a_linked_image_without_target_keeps_its_other_attributes() -> None:
    html = '<a href="https://x.org/" target="_blank" style="color:red;outline: none;">x</a><a target="_self" href="y">y</a>'
    assert postprocess(html) == '<a href="https://x.org/" style="color:red;">x</a><a target="_self" href="y">y</a>'
