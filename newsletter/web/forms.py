"""The sign-up form as a snippet for the organisation's own website (`serve --print-form`).

It posts to the sign-up page of `serve`; since a form on another site cannot carry this
server's CSRF token, the sign-up page answers such a post by showing the form again, filled
in, to be sent with one more click (and then the confirmation e-mail does the rest)."""
from __future__ import annotations

from newsletter.core.config import Workspace
from newsletter.web.app import page_environment
from newsletter.web.i18n import Texts
from newsletter.web.pages import Paths, Site, form_context


def print_form(ws: Workspace, language: str | None = None) -> str:
    texts = Texts(ws)
    words = texts.words(texts.best([language] if language else []))
    paths = Paths.from_workspace(ws)
    site = Site.__new__(Site)  # only what form_context reads
    site.ws, site.texts, site.paths = ws, texts, paths
    site.topics = list(ws.settings.web.topics)
    context = form_context(site, words, {t.tag for t in site.topics if t.default})
    context["signup_action"] = paths.public + "/signup"
    html = page_environment(ws).get_template("form.html").render(
        w=words, csrf="", form={"email": "", "name": "", "language": words.language, "consent": False}, **context)
    style = ("<style>.newsletter-signup .hp{position:absolute;left:-9999px;width:1px;height:1px;"
             "overflow:hidden}.newsletter-signup label{display:block}</style>\n")
    return f"<!-- {ws.settings.organisation.name}: newsletter sign-up (newsletter serve --print-form) -->\n{style}{html}"
