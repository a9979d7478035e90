"""Minimal reproduction for mjml-python / MRML: attribute values come out with Rust escapes.

Run:  python docs/upstream/mrml_attribute_escapes.py
Needs only `pip install mjml-python`. Prints each input next to what MRML wrote into the
alt attribute, and exits 1 while any of them is mangled. See mrml-attribute-escapes.md.
"""
import re
import sys

from mjml import mjml2html

SAMPLES = {
    "emoji with zero-width joiner": "\U0001F469\u200d\U0001F467",
    "no-break space before a colon (French)": "Photo\u00a0: la salle",
    "Arabic with vowel marks": "\u0645\u064e\u0631\u0652\u062d\u064e\u0628\u064b\u0627",
    "combining acute accent": "e\u0301te\u0301",
    "variation selector 16": "\u2764\ufe0f",
    "backslash": "C:\\path",
    "line break": "two\nlines",
}

mangled = 0
for name, value in SAMPLES.items():
    mjml = ("<mjml><mj-body><mj-section><mj-column>"
            f'<mj-image src="https://example.org/a.png" alt="{value}" />'
            "</mj-column></mj-section></mj-body></mjml>")
    alt = re.search(r'<img[^>]*\balt="([^"]*)"', mjml2html(mjml)).group(1)
    ok = alt == value
    mangled += not ok
    print(f"{'ok ' if ok else 'BAD'} {name}: wrote {alt!r} for {value!r}")
sys.exit(1 if mangled else 0)
