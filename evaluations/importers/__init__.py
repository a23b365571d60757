"""Pure parsers: file bytes in, ``RunInput``s out; no database. ``detect`` picks the format
from the content, never from the file name. ``evaluations.imports`` persists the result."""

from __future__ import annotations

from evaluations.importers.base import ImportFailed, ParsedFile
from evaluations.importers.detect import parse

__all__ = ["ImportFailed", "ParsedFile", "parse"]
