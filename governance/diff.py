"""What changed between two versions of a policy, item by item and field by field."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

SECTIONS = (
    ("levels", "code", "Safety levels"),
    ("domains", "code", "Risk domains"),
    ("thresholds", "code", "Capability thresholds"),
    ("safeguards", "code", "Safeguards"),
    ("authorities", "username", "Authorities"),
)


@dataclass(frozen=True)
class FieldChange:
    name: str
    before: Any
    after: Any


@dataclass
class SectionDiff:
    title: str
    added: list[str] = field(default_factory=list)
    removed: list[str] = field(default_factory=list)
    changed: dict[str, list[FieldChange]] = field(default_factory=dict)

    @property
    def empty(self) -> bool:
        return not (self.added or self.removed or self.changed)


@dataclass
class VersionDiff:
    settings: list[FieldChange]
    sections: list[SectionDiff]

    @property
    def empty(self) -> bool:
        return not self.settings and all(section.empty for section in self.sections)


def _field_changes(before: dict[str, Any], after: dict[str, Any]) -> list[FieldChange]:
    names = [*before, *(name for name in after if name not in before)]
    return [
        FieldChange(name, before.get(name), after.get(name))
        for name in names
        if before.get(name) != after.get(name)
    ]


def diff(old: dict[str, Any], new: dict[str, Any]) -> VersionDiff:
    sections = []
    for section, key, title in SECTIONS:
        before = {item[key]: item for item in old[section]}
        after = {item[key]: item for item in new[section]}
        result = SectionDiff(title=title)
        result.added = [name for name in after if name not in before]
        result.removed = [name for name in before if name not in after]
        for name in before.keys() & after.keys():
            changes = _field_changes(before[name], after[name])
            if changes:
                result.changed[name] = changes
        result.changed = dict(sorted(result.changed.items()))
        sections.append(result)
    settings = _field_changes(
        {k: v for k, v in old["version"].items() if k != "effective_from"},
        {k: v for k, v in new["version"].items() if k != "effective_from"},
    )
    return VersionDiff(settings=settings, sections=sections)
