"""Policy as code: a version's content to YAML and back (docs/policy-yaml.md).

``parse`` is pure: text in, content dict out, or ``PolicyFileError`` listing every problem with
the line it points at. It checks shape and types here and the register's rules through
``governance.validation``; it never touches the database.
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

import yaml

from governance import validation
from governance.content import FORMAT
from governance.validation import Path

MAX_BYTES = 512 * 1024
_SLUG = validation.SLUG
_CODE = validation.CODE


@dataclass(frozen=True)
class Problem:
    line: int | None
    message: str

    def __str__(self) -> str:
        return f"line {self.line}: {self.message}" if self.line else self.message


class PolicyFileError(ValueError):
    def __init__(self, problems: list[Problem]) -> None:
        self.problems = problems
        super().__init__("; ".join(str(problem) for problem in problems))


def dump(content: dict[str, Any]) -> str:
    header = f"# Policy as code, format {FORMAT}: see docs/policy-yaml.md\n"
    return header + yaml.safe_dump(content, sort_keys=False, allow_unicode=True, width=100)


# --- reading --------------------------------------------------------------------------------


def _refuse_anchors(text: str) -> None:
    """Aliases let a tiny document expand into a huge one ("billion laughs"): refuse both."""
    for event in yaml.parse(text, Loader=yaml.SafeLoader):
        if isinstance(event, yaml.AliasEvent) or getattr(event, "anchor", None):
            line = event.start_mark.line + 1 if event.start_mark else None
            raise PolicyFileError([Problem(line, "anchors and aliases are not supported")])


def _line_map(node: yaml.Node, path: Path, lines: dict[Path, int]) -> None:
    lines[path] = node.start_mark.line + 1
    if isinstance(node, yaml.MappingNode):
        keys: set[str] = set()
        for key, value in node.value:
            if isinstance(key, yaml.ScalarNode):
                if key.value in keys:
                    line = key.start_mark.line + 1
                    raise PolicyFileError([Problem(line, f"the key {key.value!r} appears twice")])
                keys.add(key.value)
                _line_map(value, (*path, key.value), lines)
    elif isinstance(node, yaml.SequenceNode):
        for index, item in enumerate(node.value):
            _line_map(item, (*path, index), lines)


def _load(text: str) -> tuple[Any, dict[Path, int]]:
    if len(text.encode("utf-8")) > MAX_BYTES:
        raise PolicyFileError([Problem(None, f"the file is larger than {MAX_BYTES // 1024} KB")])
    try:
        _refuse_anchors(text)
        loader = yaml.SafeLoader(text)
        try:
            node = loader.get_single_node()
            if node is None:
                raise PolicyFileError([Problem(None, "the file is empty")])
            lines: dict[Path, int] = {}
            _line_map(node, (), lines)
            return loader.construct_document(node), lines
        finally:
            loader.dispose()
    except yaml.MarkedYAMLError as exc:
        line = exc.problem_mark.line + 1 if exc.problem_mark else None
        raise PolicyFileError([Problem(line, f"not valid YAML: {exc.problem}")]) from None
    except yaml.YAMLError as exc:
        raise PolicyFileError([Problem(None, f"not valid YAML: {exc}")]) from None
    except RecursionError:
        raise PolicyFileError([Problem(None, "the document is nested too deeply")]) from None


class _Reader:
    """Typed access to the loaded document that records a problem instead of raising."""

    def __init__(self, lines: dict[Path, int]) -> None:
        self.lines = lines
        self.problems: list[Problem] = []

    def line(self, path: Path) -> int | None:
        while path and path not in self.lines:
            path = path[:-1]
        return self.lines.get(path)

    def fail(self, path: Path, message: str) -> None:
        self.problems.append(Problem(self.line(path), f"{_dotted(path)}: {message}"))

    def mapping(self, value: Any, path: Path) -> dict[str, Any]:
        if not isinstance(value, dict):
            self.fail(path, "must be a mapping of fields")
            return {}
        return value

    def items(self, doc: dict[str, Any], key: str, path: Path) -> list[dict[str, Any]]:
        value = doc.get(key, [])
        if value is None:
            return []
        if not isinstance(value, list):
            self.fail((*path, key), "must be a list")
            return []
        return [self.mapping(item, (*path, key, i)) for i, item in enumerate(value)]

    def text(self, doc: dict[str, Any], key: str, path: Path, *, required: bool = True,
             max_length: int = 10_000, pattern: re.Pattern[str] | None = None) -> str:  # fmt: skip
        value = doc.get(key)
        if value is None:
            if required:
                self.fail((*path, key), "is required")
            return ""
        if not isinstance(value, str | int | float) or isinstance(value, bool):
            self.fail((*path, key), "must be text")
            return ""
        value = str(value).strip()
        if required and not value:
            self.fail((*path, key), "must not be empty")
        elif len(value) > max_length:
            self.fail((*path, key), f"is longer than {max_length} characters")
        elif pattern and value and not pattern.match(value):
            self.fail((*path, key), f"{value!r} has characters that are not allowed")
        return value

    def integer(self, doc: dict[str, Any], key: str, path: Path, *, default: int | None = None,
                minimum: int = 1, maximum: int = 2**31 - 1) -> int:  # fmt: skip
        value = doc.get(key, default)
        if not isinstance(value, int) or isinstance(value, bool):
            self.fail((*path, key), "must be a whole number")
            return minimum
        if value < minimum:
            self.fail((*path, key), f"must be at least {minimum}")
        elif value > maximum:
            self.fail((*path, key), f"must be at most {maximum}")
        return value

    def number(
        self, doc: dict[str, Any], key: str, path: Path, *, required: bool = True
    ) -> float | None:
        value = doc.get(key)
        if value is None and not required:
            return None
        try:
            finite = math.isfinite(value)  # type: ignore[arg-type]
        except (TypeError, OverflowError):  # not a number, or an integer beyond any float
            finite = False
        if not isinstance(value, int | float) or isinstance(value, bool) or not finite:
            self.fail((*path, key), "must be a finite number")
            return 0.0
        return float(value)

    def choice(self, doc: dict[str, Any], key: str, path: Path, choices: tuple[str, ...]) -> str:
        value = doc.get(key)
        if value not in choices:
            self.fail((*path, key), f"must be one of {', '.join(choices)}")
            return choices[0]
        return str(value)

    def day(
        self, doc: dict[str, Any], key: str, path: Path, *, required: bool = True
    ) -> str | None:
        value = doc.get(key)
        if value is None and not required:
            return None
        if isinstance(value, datetime):
            self.fail((*path, key), "must be a date without a time of day")
            return "1970-01-01"
        if isinstance(value, date):
            return value.isoformat()
        try:
            return date.fromisoformat(str(value)).isoformat()
        except ValueError:
            self.fail((*path, key), "must be a date written YYYY-MM-DD")
            return "1970-01-01"

    def flag(self, doc: dict[str, Any], key: str, path: Path, *, default: bool) -> bool:
        value = doc.get(key, default)
        if not isinstance(value, bool):
            self.fail((*path, key), "must be true or false")
            return default
        return value


def _dotted(path: Path) -> str:
    out = ""
    for part in path:
        out += f"[{part}]" if isinstance(part, int) else (f".{part}" if out else part)
    return out or "document"


COMPARATORS = (">=", ">", "<=", "<")
FAMILIES = ("security", "deployment", "governance")
SCOPES = ("model_version", "release")
POWERS = ("pause", "restrict", "lift", "approve")


def _version(r: _Reader, doc: dict[str, Any]) -> dict[str, Any]:
    path: Path = ("version",)
    raw = r.mapping(doc.get("version"), path)
    baseline = raw.get("baseline_level")
    return {
        "label": r.text(raw, "label", path, max_length=50),
        "changelog": r.text(raw, "changelog", path, required=False),
        "reevaluation_interval_days": r.integer(
            raw, "reevaluation_interval_days", path, maximum=validation.MAX_INTERVAL_DAYS
        ),
        "baseline_level": None
        if baseline is None
        else r.text(raw, "baseline_level", path, max_length=30),
        "signing_quorum": r.integer(raw, "signing_quorum", path, default=1),
        **(
            {"separation_waiver": r.text(raw, "separation_waiver", path)}
            if raw.get("separation_waiver")
            else {}
        ),
    }


def _levels(r: _Reader, doc: dict[str, Any]) -> list[dict[str, Any]]:
    return [
        {
            "rank": r.integer(level, "rank", ("levels", i)),
            "code": r.text(level, "code", ("levels", i), max_length=30, pattern=_CODE),
            "name": r.text(level, "name", ("levels", i), max_length=100),
            "capability_bar": r.text(level, "capability_bar", ("levels", i), required=False),
            "defined": r.flag(level, "defined", ("levels", i), default=True),
            "approval_quorum": r.integer(level, "approval_quorum", ("levels", i), default=1),
        }
        for i, level in enumerate(r.items(doc, "levels", ()))
    ]


def _domains(r: _Reader, doc: dict[str, Any]) -> list[dict[str, Any]]:
    return [
        {
            "code": r.text(domain, "code", ("domains", i), max_length=30, pattern=_CODE),
            "name": r.text(domain, "name", ("domains", i), max_length=100),
            "description": r.text(domain, "description", ("domains", i), required=False),
        }
        for i, domain in enumerate(r.items(doc, "domains", ()))
    ]


def _conditions(r: _Reader, threshold: dict[str, Any], path: Path) -> list[dict[str, Any]]:
    return [
        {
            "evaluation": r.text(c, "evaluation", (*path, "conditions", j), max_length=100),
            "metric": r.text(c, "metric", (*path, "conditions", j), max_length=100),
            "comparator": r.choice(c, "comparator", (*path, "conditions", j), COMPARATORS),
            "value": r.number(c, "value", (*path, "conditions", j)),
            "alert_value": r.number(c, "alert_value", (*path, "conditions", j), required=False),
        }
        for j, c in enumerate(r.items(threshold, "conditions", path))
    ]


def _thresholds(r: _Reader, doc: dict[str, Any]) -> list[dict[str, Any]]:
    out = []
    for i, threshold in enumerate(r.items(doc, "thresholds", ())):
        path: Path = ("thresholds", i)
        out.append(
            {
                "code": r.text(threshold, "code", path, max_length=30, pattern=_CODE),
                "domain": r.text(threshold, "domain", path, max_length=30),
                "description": r.text(threshold, "description", path, required=False),
                "required_level": r.text(threshold, "required_level", path, max_length=30),
                "conditions": _conditions(r, threshold, path),
            }
        )
    return out


def _safeguards(r: _Reader, doc: dict[str, Any]) -> list[dict[str, Any]]:
    return [
        {
            "code": r.text(s, "code", ("safeguards", i), max_length=30, pattern=_CODE),
            "name": r.text(s, "name", ("safeguards", i), max_length=150),
            "family": r.choice(s, "family", ("safeguards", i), FAMILIES),
            "scope": r.choice(s, "scope", ("safeguards", i), SCOPES),
            "description": r.text(s, "description", ("safeguards", i), required=False),
            "evidence_required": r.text(s, "evidence_required", ("safeguards", i), required=False),
            "minimum_level": r.text(s, "minimum_level", ("safeguards", i), max_length=30),
        }
        for i, s in enumerate(r.items(doc, "safeguards", ()))
    ]


def _scope(r: _Reader, authority: dict[str, Any], path: Path) -> str | list[str]:
    scope = authority.get("scope", "all")
    if scope == "all":
        return "all"
    if (
        not isinstance(scope, list)
        or not scope
        or not all(isinstance(slug, str) and _SLUG.match(slug) for slug in scope)
    ):
        r.fail((*path, "scope"), 'must be "all" or a list of model slugs')
        return "all"
    return sorted(scope)


def _powers(r: _Reader, authority: dict[str, Any], path: Path) -> list[str]:
    powers = authority.get("powers")
    valid = isinstance(powers, list) and all(isinstance(power, str) for power in powers)
    if not valid or not powers or not set(powers) <= set(POWERS):
        r.fail((*path, "powers"), f"must be a list of {', '.join(POWERS)}")
        return []
    return [power for power in POWERS if power in powers]


def _authorities(r: _Reader, doc: dict[str, Any]) -> list[dict[str, Any]]:
    out = []
    for i, authority in enumerate(r.items(doc, "authorities", ())):
        path: Path = ("authorities", i)
        out.append(
            {
                "username": r.text(authority, "username", path, max_length=150),
                "scope": _scope(r, authority, path),
                "powers": _powers(r, authority, path),
                "valid_from": r.day(authority, "valid_from", path),
                "valid_until": r.day(authority, "valid_until", path, required=False),
            }
        )
    return out


def parse(text: str) -> dict[str, Any]:
    """YAML text → content dict (authorities without ``granted_by``), or ``PolicyFileError``."""
    data, lines = _load(text)
    r = _Reader(lines)
    doc = r.mapping(data, ())
    if not r.problems and doc.get("format") != FORMAT:
        r.fail(("format",), f"must be {FORMAT}")
    policy = r.mapping(doc.get("policy"), ("policy",))
    content = {
        "format": FORMAT,
        "policy": {
            "name": r.text(policy, "name", ("policy",), max_length=200),
            "slug": r.text(policy, "slug", ("policy",), max_length=60, pattern=_SLUG),
        },
        "version": _version(r, doc),
        "levels": _levels(r, doc),
        "domains": _domains(r, doc),
        "thresholds": _thresholds(r, doc),
        "safeguards": _safeguards(r, doc),
        "authorities": _authorities(r, doc),
    }
    if r.problems:  # the register's rules make sense only on a well-formed document
        raise PolicyFileError(r.problems)
    for issue in validation.errors(content):
        r.problems.append(Problem(r.line(issue.path), issue.message))
    if r.problems:
        raise PolicyFileError(r.problems)
    return content
