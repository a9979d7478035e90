"""Running the theme's templates, and turning every failure into a TemplateError that names
the template file and line: Jinja's own errors, and MJML that MRML refuses (MRML's messages
carry no line, so the MJML is rendered again with each template line marked, see theme.py)."""
from __future__ import annotations

import traceback
from typing import Any

import jinja2
from jinja2 import Environment, pass_context
from jinja2.runtime import Context

from newsletter.core.config import Workspace
from newsletter.core.errors import RenderError, TemplateError
from newsletter.render import text as textfmt
from newsletter.render.mjml import Traced, diagnose
from newsletter.render.theme import TracingLoader, environment, template_label
from newsletter.render.views import Md

HTML_TEMPLATE = "email.mjml.j2"
TEXT_TEMPLATE = "email.txt.j2"
BLOCK_TEMPLATE = "blocks/{type}.mjml.j2"


def theme_environment(ws: Workspace, trace: bool = False) -> Environment:
    """The theme's environment with the text filters: text (Markdown -> text), ref (URL ->
    [n]), wrap and underline."""
    env = environment(ws, trace)
    env.filters.update(text=_md_text, ref=_ref, wrap=_wrap, underline=textfmt.underline)
    return env


@pass_context
def _md_text(ctx: Context, value: Any, indent: str = "") -> str:
    if isinstance(value, Md):
        return value.text(ctx["refs"], indent)
    return textfmt.wrap(str(value), indent=indent)


@pass_context
def _ref(ctx: Context, url: str) -> str:
    return ctx["refs"].ref(url)


def _wrap(value: str, indent: str = "", first: str | None = None) -> str:
    return textfmt.wrap(" ".join(str(value).split()), indent=indent, first=first)


def run(ws: Workspace, env: Environment, name: str, context: dict[str, Any], **extra: Any) -> str:
    """Render one template; every failure becomes a TemplateError at the template's line."""
    try:
        return env.get_template(name).render(context, **extra)
    except jinja2.TemplateSyntaxError as exc:
        label = template_label(ws, exc.filename or exc.name or name)
        raise TemplateError(label, exc.lineno, f"template syntax error: {exc.message}") from exc
    except jinja2.TemplateNotFound as exc:
        raise TemplateError(name, None, f"template {exc.name!r} not found in {ws.templates_dir} "
                                        "or in the default theme") from exc
    except RenderError:
        raise
    except Exception as exc:  # an undefined name or a failing filter inside a template
        label, line = _template_frame(ws, exc)
        raise TemplateError(label or name, line, f"{type(exc).__name__}: {exc}") from exc


def _template_frame(ws: Workspace, exc: BaseException) -> tuple[str | None, int | None]:
    """The innermost template line in the traceback (Jinja rewrites frames to template lines)."""
    for frame in reversed(traceback.extract_tb(exc.__traceback__)):
        if frame.filename.endswith((".j2", ".mjml", ".txt")):
            return template_label(ws, frame.filename), frame.lineno
    return None, None


def mjml_error(ws: Workspace, context: dict[str, Any], message: str) -> TemplateError:
    """Render the MJML again with every template line marked, find where MRML trips, and
    name the template line that wrote that place."""
    env = theme_environment(ws, trace=True)
    traced = Traced.parse(run(ws, env, HTML_TEMPLATE, context))
    loader = env.loader
    assert isinstance(loader, TracingLoader)
    found = diagnose(traced.text)
    source = traced.source_of(found[0]) if found and found[0] is not None else None
    if found is None or source is None:
        why = found[1] if found else f"MRML: {message}"
        root = loader.files[0] if loader.files else HTML_TEMPLATE
        return TemplateError(template_label(ws, root), None, f"invalid MJML: {why}")
    number, line = source
    return TemplateError(template_label(ws, loader.files[number]), line, f"invalid MJML: {found[1]}")
