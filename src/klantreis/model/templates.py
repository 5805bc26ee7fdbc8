"""The journey templates shipped with klantreis, one YAML file per template and language."""

from __future__ import annotations

from dataclasses import dataclass
from importlib import resources
from pathlib import Path

from ..errors import TemplateNotFound
from .journey import Journey
from .yamlio import load_journey

__all__ = ["LANGS", "Template", "list_templates", "load_template", "template_path"]

LANGS = ("en", "nl")


@dataclass(frozen=True)
class Template:
    name: str
    lang: str
    title: str
    description: str
    stages: int
    touchpoints: int
    path: Path


def _dir() -> Path:
    return Path(str(resources.files("klantreis") / "templates"))


def template_path(name: str, lang: str = "en") -> Path:
    if lang not in LANGS:
        raise TemplateNotFound(
            f"Unknown language {lang!r} for template {name!r}.", hint="use en or nl."
        )
    path = _dir() / f"{name}.{lang}.yaml"
    if not path.is_file():
        names = sorted({p.name.split(".")[0] for p in _dir().glob("*.yaml")})
        raise TemplateNotFound(
            f"Unknown template {name!r}. Known templates: {', '.join(names)}.",
            hint="run 'klantreis templates' to see them with their stages.",
        )
    return path


def load_template(name: str, lang: str = "en") -> Journey:
    """A fresh copy of a shipped template (a complete example journey)."""
    return load_journey(template_path(name, lang))


def list_templates(lang: str | None = None) -> list[Template]:
    out = []
    for path in sorted(_dir().glob("*.yaml")):
        name, file_lang, _ = path.name.split(".")
        if lang is not None and file_lang != lang:
            continue
        j = load_journey(path)
        out.append(
            Template(
                name=name,
                lang=file_lang,
                title=j.name,
                description=_first_sentence(j.description or ""),
                stages=len(j.stages),
                touchpoints=len(j.touchpoints),
                path=path,
            )
        )
    return out


def _first_sentence(text: str) -> str:
    """The first sentence of a (wrapped) description, for listings."""
    flat = " ".join(text.split())
    end = flat.find(". ")
    return flat if end < 0 else flat[: end + 1]
