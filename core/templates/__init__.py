"""HTML from Jinja2 templates in this folder: the recruiter page and the e-mail summary.

Every value is escaped (autoescape), an undefined name is an error instead of an empty string,
and templates reach the text catalogue through `phrase`. docs/architecture.md lists the
templates; the page's stylesheet is `recruiter/page.css`.
"""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path

from jinja2 import Environment, FileSystemLoader, StrictUndefined

from core.texts import phrase

TEMPLATES_DIR = Path(__file__).parent


@lru_cache(maxsize=1)
def environment() -> Environment:
    """The one Jinja2 environment, built on first use."""
    env = Environment(
        loader=FileSystemLoader(TEMPLATES_DIR),
        autoescape=True,
        undefined=StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
        auto_reload=False,
    )
    env.globals["phrase"] = phrase
    return env


def render(template: str, /, **context: object) -> str:
    """The template (a path under core/templates/) filled in with `context`."""
    return environment().get_template(template).render(**context)


@lru_cache(maxsize=8)
def static(name: str) -> str:
    """A file served as it is, such as a stylesheet; read once."""
    return (TEMPLATES_DIR / name).read_text(encoding="utf-8")
