"""Load and save journey YAML files.

Loading keeps the parsed document (ruamel.yaml round-trip mode) next to the model, so saving
writes back the author's file with their key order, comments and quoting; only what changed in
the model changes in the file. Loading then saving an unchanged journey gives the same bytes
for files in the canonical layout (2-space mappings, lists indented by 2 under their key).

Every problem in a file is reported at once, each with its line number.
"""

from __future__ import annotations

import copy
import dataclasses
import io
import re
from pathlib import Path
from typing import Any

from pydantic import ValidationError
from ruamel.yaml import YAML
from ruamel.yaml.comments import CommentedMap, CommentedSeq
from ruamel.yaml.error import MarkedYAMLError

from ..errors import JourneyNotFound, JourneyValidationError, Problem
from .checks import check_journey, close_matches
from .journey import Journey

__all__ = ["dump_journey", "journey_from_data", "load_journey", "parse_journey", "save_journey"]

_DOCS = "_klantreis_doc"


def _yaml() -> YAML:
    y = YAML(typ="rt")
    y.preserve_quotes = True
    y.indent(mapping=2, sequence=4, offset=2)
    y.width = 100
    return y


def load_journey(path: str | Path) -> Journey:
    """Read and validate a journey file; raise JourneyValidationError listing every problem."""
    p = Path(path)
    if not p.is_file():
        raise JourneyNotFound(f"Journey file {str(p)!r} does not exist.")
    return parse_journey(p.read_text(encoding="utf-8"), file=str(p))


def parse_journey(text: str, *, file: str | None = None) -> Journey:
    """Validate journey YAML text (``file`` only names it in messages)."""
    try:
        doc = _yaml().load(text)
    except MarkedYAMLError as exc:
        mark = exc.problem_mark
        line = mark.line + 1 if mark is not None else None
        raise JourneyValidationError(
            [
                Problem(
                    code="yaml_syntax",
                    message=f"Not valid YAML: {exc.problem}.",
                    file=file,
                    line=line,
                    hint="check the indentation and that text with ':' or '#' is quoted.",
                )
            ],
            file=file,
        ) from None
    if not isinstance(doc, CommentedMap):
        raise JourneyValidationError(
            [
                Problem(
                    code="not_a_mapping",
                    message="A journey file must be a mapping with id, name and stages.",
                    file=file,
                    line=1,
                    value=type(doc).__name__,
                )
            ],
            file=file,
        )
    try:
        journey = Journey.model_validate(_plain(doc))
    except ValidationError as exc:
        problems = [_from_pydantic(err, doc, file) for err in exc.errors()]
        raise JourneyValidationError(problems, file=file) from None
    problems = [_locate(p, doc, file) for p in check_journey(journey)]
    if problems:
        raise JourneyValidationError(problems, file=file)
    object.__setattr__(journey, _DOCS, doc)
    return journey


def journey_from_data(data: dict[str, Any], *, like: Journey | None = None) -> Journey:
    """Validate plain journey data as if it were a file (same problem codes, paths and hints).

    The parsed YAML document of ``like`` travels along, so saving the result keeps that file's
    comments, key order and quoting (the web editor edits journeys this way).
    """
    buf = io.StringIO()
    _yaml().dump(_to_commented(data), buf)
    new = parse_journey(buf.getvalue(), file=f"{data.get('id', 'journey')}.yaml")
    doc = getattr(like, _DOCS, None) if like is not None else None
    if doc is not None:
        object.__setattr__(new, _DOCS, copy.deepcopy(doc))
    return new


def dump_journey(journey: Journey) -> str:
    """The journey as YAML text, written into its original document when it has one."""
    doc = getattr(journey, _DOCS, None)
    data = journey.to_data()
    node = _merge(doc, data) if doc is not None else _to_commented(data)
    buf = io.StringIO()
    _yaml().dump(node, buf)
    return buf.getvalue()


def save_journey(journey: Journey, path: str | Path) -> Path:
    """Write a journey atomically (temp file, then rename) and return the path."""
    p = Path(path)
    text = dump_journey(journey)
    # Validate what we write: a saved journey always loads again.
    parse_journey(text, file=str(p))
    p.parent.mkdir(parents=True, exist_ok=True)
    tmp = p.with_name(f".{p.name}.tmp")
    tmp.write_text(text, encoding="utf-8")
    tmp.replace(p)
    return p


# -- internals -------------------------------------------------------------------------------


def _plain(node: Any) -> Any:
    if isinstance(node, dict):
        return {str(k): _plain(v) for k, v in node.items()}
    if isinstance(node, list):
        return [_plain(v) for v in node]
    if isinstance(node, str):
        return str(node)
    if isinstance(node, bool):
        return bool(node)
    if isinstance(node, int):
        return int(node)
    if isinstance(node, float):
        return float(node)
    return node


def _line_of(doc: Any, loc: tuple[Any, ...]) -> int | None:
    """1-based line of the deepest part of ``loc`` found in the document."""
    node = doc
    line: int | None = 1
    for key in loc:
        try:
            if isinstance(node, CommentedMap) and key in node:
                line = node.lc.key(key)[0] + 1
                node = node[key]
            elif isinstance(node, CommentedSeq) and isinstance(key, int) and key < len(node):
                line = node.lc.item(key)[0] + 1
                node = node[key]
            else:
                break
        except (KeyError, IndexError, TypeError, AttributeError):
            break
    return line


def _locate(problem: Problem, doc: Any, file: str | None) -> Problem:
    """The problem with its file and the line of its path in the document."""
    loc: list[Any] = []
    for part in re.findall(r"[^.\[\]]+|\[\d+\]", problem.path):
        loc.append(int(part[1:-1]) if part.startswith("[") else part)
    return dataclasses.replace(problem, file=file, line=_line_of(doc, tuple(loc)))


def _path_text(loc: tuple[Any, ...]) -> str:
    out = ""
    for key in loc:
        if isinstance(key, int):
            out += f"[{key}]"
        else:
            out += f".{key}" if out else str(key)
    return out


def _value_at(doc: Any, loc: tuple[Any, ...]) -> Any:
    node = doc
    for key in loc:
        try:
            node = node[key]
        except (KeyError, IndexError, TypeError):
            return None
    return _plain(node)


_UNION_TAGS = {"str", "int", "float", "bool", "list[...]", "LocalText", "function-after"}


def _from_pydantic(err: Any, doc: Any, file: str | None) -> Problem:
    # pydantic puts union member names in the location (e.g. ('channel', 'str')); drop them.
    loc = tuple(k for k in err["loc"] if not (isinstance(k, str) and k in _UNION_TAGS))
    typ = err["type"]
    path = _path_text(loc)
    value = _value_at(doc, loc)
    hint = None
    allowed = None
    msg = err["msg"]
    if typ == "extra_forbidden":
        parent = _model_fields_at(loc[:-1])
        msg = f"Unknown field {loc[-1]!r}."
        allowed = ", ".join(parent) if parent else None
        hint = close_matches(str(loc[-1]), parent) if parent else None
    elif typ == "missing":
        msg = f"Missing required field {loc[-1]!r}."
        value = None
        hint = _missing_hint(loc)
    elif typ == "string_pattern_mismatch":
        msg = f"Invalid id {value!r}."
        allowed = "lower-case letters, digits, '_' and '-', starting with a letter or digit"
        hint = "for example 'order_confirmation' or 'call-centre'."
    elif typ in {"greater_than_equal", "less_than_equal"} and loc and loc[-1] == "emotion":
        msg = f"Expected emotion {value!r} is out of range."
        allowed = "-2 (very negative) .. +2 (very positive)"
    elif typ == "literal_error":
        expected = err.get("ctx", {}).get("expected")
        msg = f"Invalid value {value!r}."
        allowed = str(expected) if expected else None
        if expected and isinstance(value, str):
            options = [o.strip(" '") for o in str(expected).replace(" or ", ",").split(",")]
            hint = close_matches(value, [o for o in options if o])
    elif typ == "string_too_short":
        msg = "Must not be empty."
    elif typ == "too_short" and loc and loc[-1] == "stages":
        msg = "A journey needs at least one stage."
    return Problem(
        code=f"field_{typ}",
        message=msg,
        path=path,
        file=file,
        line=_line_of(doc, loc),
        value=value,
        allowed=allowed,
        hint=hint,
    )


def _missing_hint(loc: tuple[Any, ...]) -> str | None:
    field = loc[-1] if loc else None
    if field == "name" and len(loc) >= 3 and loc[0] == "stages":
        return "stage names need both languages: name: {en: Awareness, nl: Bewustwording}."
    if field in {"en", "nl"}:
        return "stage names need both languages: name: {en: Awareness, nl: Bewustwording}."
    return None


def _model_fields_at(loc: tuple[Any, ...]) -> list[str]:
    from .journey import Lanes, LocalText, MatchRule, Persona, Segment, Stage, Touchpoint

    model: Any = Journey
    children = {
        "stages": Stage,
        "touchpoints": Touchpoint,
        "personas": Persona,
        "segments": Segment,
        "match": MatchRule,
        "lanes": Lanes,
        "name": LocalText,
    }
    for key in loc:
        if isinstance(key, int):
            continue
        model = children.get(str(key))
        if model is None:
            return []
    return list(model.model_fields)


def _to_commented(data: Any) -> Any:
    if isinstance(data, dict):
        m = CommentedMap()
        for k, v in data.items():
            m[k] = _to_commented(v)
        return m
    if isinstance(data, list):
        s = CommentedSeq()
        s.extend(_to_commented(v) for v in data)
        return s
    return data


def _merge(node: Any, data: Any) -> Any:
    """Write plain ``data`` into the parsed ``node``, keeping order, comments and styles."""
    if isinstance(data, dict) and isinstance(node, CommentedMap):
        for key in [k for k in node if k not in data]:
            del node[key]
        for key, value in data.items():
            node[key] = _merge(node[key], value) if key in node else _to_commented(value)
        return node
    if isinstance(data, list) and isinstance(node, CommentedSeq):
        by_id = {
            item.get("id"): item
            for item in node
            if isinstance(item, CommentedMap) and item.get("id") is not None
        }
        same_shape = len(node) == len(data)
        merged = []
        for i, value in enumerate(data):
            old = None
            if isinstance(value, dict) and value.get("id") in by_id:
                old = by_id[value["id"]]
            elif same_shape:
                old = node[i]
            merged.append(_merge(old, value) if old is not None else _to_commented(value))
        if same_shape and all(a is b for a, b in zip(merged, node, strict=True)):
            return node
        if same_shape and not any(isinstance(v, (dict, list)) for v in data):
            for i, value in enumerate(merged):
                node[i] = value
            return node
        seq = CommentedSeq(merged)
        if node.fa.flow_style():
            seq.fa.set_flow_style()
        return seq
    if isinstance(node, (CommentedMap, CommentedSeq)) or isinstance(data, (dict, list)):
        return _to_commented(data)
    if node == data and type(_plain(node)) is type(data):
        return node
    return data
