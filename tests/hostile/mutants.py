"""Mutants of the real evaluation logs in tests/fixtures/evals/, for
``test_importer_fuzz``: a JSON tree that can write what the json module will not (repeated
keys, ``NaN``, ``1e400``, 5,000-digit integers, brackets 100,000 deep), zip archives rebuilt
or damaged in place, and the Hypothesis strategies and sweeps that use them."""

from __future__ import annotations

import csv
import io
import json
import struct
import warnings
import zipfile
import zlib
from collections.abc import Callable
from dataclasses import dataclass, field
from functools import cache
from pathlib import Path
from typing import Any

import zstandard
from hypothesis import strategies as st

from evaluations import importers
from evaluations.importers.base import MAX_JSON_BYTES

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures" / "evals"
LOGS = sorted(p for p in FIXTURES.rglob("*") if p.suffix in {".eval", ".json", ".jsonl"})
LABEL = "orion-2.1"
ZSTD = 93
HEADER = "header.json"


# --- A JSON tree that can say what the json module will not write ---------------------------


class Obj:
    """A JSON object as its list of pairs, so that a mutant may repeat a key."""

    def __init__(self, pairs: list[tuple[str, Any]]) -> None:
        self.pairs = list(pairs)


class Raw(str):
    """JSON text written as is: ``1e400``, ``NaN``, a 5,000-digit integer, deep brackets."""


def dump(node: Any, memo: dict[int, str]) -> str:
    """JSON text of ``node``; ``memo`` holds the text of the unmutated log's subtrees."""
    if id(node) in memo:
        return memo[id(node)]
    if isinstance(node, Raw):
        return str(node)
    if isinstance(node, Obj):
        return "{" + ",".join(f"{json.dumps(k)}:{dump(v, memo)}" for k, v in node.pairs) + "}"
    if isinstance(node, list):
        return "[" + ",".join(dump(item, memo) for item in node) + "]"
    return json.dumps(node)


def _memoise(node: Any, memo: dict[int, str]) -> str:
    if isinstance(node, Obj):
        text = "{" + ",".join(f"{json.dumps(k)}:{_memoise(v, memo)}" for k, v in node.pairs) + "}"
    elif isinstance(node, list):
        text = "[" + ",".join(_memoise(item, memo) for item in node) + "]"
    else:
        return json.dumps(node)
    memo[id(node)] = text
    return text


def _children(node: Any) -> list[Any]:
    if isinstance(node, Obj):
        return [value for _, value in node.pairs]
    return node if isinstance(node, list) else []


def _paths(node: Any, prefix: tuple[int, ...] = ()) -> list[tuple[int, ...]]:
    found = []
    for index, child in enumerate(_children(node)):
        found.append((*prefix, index))
        found.extend(_paths(child, (*prefix, index)))
    return found


def _edit(node: Any, path: tuple[int, ...], op: Callable[[list[Any], int], None]) -> Any:
    """A copy of ``node`` (sharing every untouched subtree) with ``op`` applied to the items of
    the container that holds ``path``'s last step."""
    items = list(node.pairs if isinstance(node, Obj) else node)
    step = path[0]
    if len(path) == 1:
        op(items, step)
    elif isinstance(node, Obj):
        key, child = items[step]
        items[step] = (key, _edit(child, path[1:], op))
    else:
        items[step] = _edit(items[step], path[1:], op)
    return Obj(items) if isinstance(node, Obj) else items


# --- The corpus ------------------------------------------------------------------------------


@dataclass
class Log:
    name: str
    data: bytes
    kind: str  # "eval", "json", "jsonl" or "csv"
    document: Any = None  # the JSON tree mutated: header.json of an .eval, a .jsonl's first line
    members: list[tuple[str, bytes]] = field(default_factory=list)  # an .eval, decompressed
    memo: dict[int, str] = field(default_factory=dict)
    paths: list[tuple[int, ...]] = field(default_factory=list)
    focus: list[tuple[int, ...]] = field(default_factory=list)  # not under samples, plan…
    hot: list[tuple[int, ...]] = field(default_factory=list)  # what the importers read

    def json_text(self, document: Any) -> str:
        return dump(document, self.memo)

    def __repr__(self) -> str:
        return f"Log({self.name!r})"


NOISE = {"samples", "plan", "reductions", "metadata", "configs", "group_subtasks", "tags"}
# What the importers read ("*": any key or index), where a wrong value does the most harm.
READ = [
    "status", "eval", "eval.task", "eval.eval_id", "eval.run_id", "eval.packages",
    "eval.packages.inspect_ai", "results", "results.scores", "results.scores.*",
    "results.scores.*.name", "results.scores.*.scorer", "results.scores.*.scored_samples",
    "results.scores.*.metrics", "results.scores.*.metrics.*", "results.scores.*.metrics.*.value",
    "stats", "stats.started_at", "stats.completed_at",  # Inspect AI
    "results.*", "results.*.*", "n-samples", "n-samples.*", "n-samples.*.effective", "date",
    "start_time", "lm_eval_version", "git_hash", "config", "versions",  # lm-evaluation-harness
]  # fmt: skip


def _read(keys: list[str | None]) -> bool:
    for pattern in READ:
        parts = pattern.split(".")
        if len(parts) == len(keys) and all(p in ("*", k) for p, k in zip(parts, keys, strict=True)):
            return True
    return False


def _keys(node: Any, path: tuple[int, ...]) -> list[str | None]:
    """The object keys along ``path`` (None for a list index)."""
    keys: list[str | None] = []
    for step in path:
        if isinstance(node, Obj):
            key, node = node.pairs[step]
            keys.append(key)
        else:
            keys.append(None)
            node = node[step]
    return keys


def _load(path: Path) -> Log:
    data = path.read_bytes()
    name = str(path.relative_to(FIXTURES))
    if path.suffix == ".eval":
        with zipfile.ZipFile(io.BytesIO(data)) as archive:
            members = [(info.filename, _unzstd(data, info)) for info in archive.infolist()]
        log = Log(name, data, "eval", members=members)
        text = dict(members)[HEADER]
    elif path.suffix == ".jsonl":
        log = Log(name, data, "jsonl")
        text = data.split(b"\n", 1)[0]
    else:
        log = Log(name, data, "json")
        text = data
    log.document = json.loads(text, object_pairs_hook=Obj)
    _memoise(log.document, log.memo)
    log.paths = _paths(log.document)
    keys = {path: _keys(log.document, path) for path in log.paths}
    log.focus = [p for p in log.paths if keys[p][0] not in NOISE] or log.paths
    log.hot = [p for p in log.focus if _read(keys[p])] or log.focus
    return log


def _unzstd(data: bytes, info: zipfile.ZipInfo) -> bytes:
    name_length, extra_length = struct.unpack("<HH", data[info.header_offset + 26 :][:4])
    start = info.header_offset + 30 + name_length + extra_length
    reader = zstandard.ZstdDecompressor().stream_reader(
        io.BytesIO(data[start : start + info.compress_size]), read_across_frames=True
    )
    return reader.read()


def _csv_log() -> Log:
    """No tool writes the CSV format, so its seed is the real Inspect runs written as CSV:
    one success with both of its metrics, one failed run without results."""
    rows = [importers.csv_results.HEADER]
    for name in ("bio_uplift_probe-0.6.json", "broken_task-error.json"):
        log = json.loads((FIXTURES / "inspect" / name).read_bytes())
        run = (LABEL, log["eval"]["task"], f"csv:{log['eval']['eval_id']}", log["status"])
        done = log["stats"]["completed_at"]
        if log["status"] != "success":
            rows.append([*run, "", "", "", "", done])
        for score in log.get("results", {}).get("scores", []):
            metrics = score["metrics"]
            spread = str(metrics["stderr"]["value"])
            for metric, figure in metrics.items():
                if metric != "stderr":
                    samples = str(score["scored_samples"])
                    value = str(figure["value"])
                    rows.append([*run, f"{score['name']}/{metric}", value, spread, samples, done])
    out = io.StringIO()
    csv.writer(out, lineterminator="\n").writerows(rows)
    return Log("derived/inspect-runs.csv", out.getvalue().encode(), "csv")


@cache
def corpus() -> dict[str, Log]:
    logs = {log.name: log for log in map(_load, LOGS)}
    derived = _csv_log()
    return {**logs, derived.name: derived}


# --- Zip archives: rebuilt from members, and patched in place ---------------------------------


def _zip(members: list[tuple[str, bytes, int]], *, packed: dict[str, bytes] | None = None) -> bytes:
    """An archive of (name, content, method). Zstandard members are written the way Inspect
    writes them (method 93), which zipfile cannot do itself: stored, then relabelled.
    ``packed`` gives a member's compressed bytes instead (its declared sizes stay those of
    ``content``: a lie only decompressing finds out)."""
    packed = packed or {}
    buffer = io.BytesIO()
    with warnings.catch_warnings(), zipfile.ZipFile(buffer, "w") as archive:
        warnings.simplefilter("ignore")  # a duplicated member is one of the mutations
        for name, content, method in members:
            if method == ZSTD:
                squeezed = packed.get(name) or zstandard.ZstdCompressor().compress(content)
                archive.writestr(zipfile.ZipInfo(name), squeezed, compress_type=zipfile.ZIP_STORED)
            else:
                archive.writestr(zipfile.ZipInfo(name), content, compress_type=method)
    data = bytearray(buffer.getvalue())
    for (_, content, method), (local, central) in zip(members, _records(data), strict=True):
        if method == ZSTD:
            crc, size = zlib.crc32(content), len(content)
            struct.pack_into("<H", data, local + 8, ZSTD)
            struct.pack_into("<I", data, local + 14, crc)
            struct.pack_into("<I", data, local + 22, size)
            struct.pack_into("<H", data, central + 10, ZSTD)
            struct.pack_into("<I", data, central + 16, crc)
            struct.pack_into("<I", data, central + 24, size)
    return bytes(data)


def _records(data: bytes | bytearray) -> list[tuple[int, int]]:
    """(local header offset, central directory record offset) of every member, in order."""
    end = data.rfind(b"PK\x05\x06")
    count, _, start = struct.unpack("<HII", data[end + 10 : end + 20])
    found, position = [], start
    for _ in range(count):
        name, extra, comment = struct.unpack("<HHH", data[position + 28 : position + 34])
        (local,) = struct.unpack("<I", data[position + 42 : position + 46])
        found.append((local, position))
        position += 46 + name + extra + comment
    return found


def _member_records(data: bytes, member: str) -> tuple[int, int, int, int]:
    """(local header, central record, data start, data length) of ``member``."""
    with zipfile.ZipFile(io.BytesIO(data)) as archive:
        names = [info.filename for info in archive.infolist()]
        info = archive.getinfo(member)
    local, central = _records(data)[names.index(member)]
    name_length, extra_length = struct.unpack("<HH", data[local + 26 : local + 30])
    return local, central, local + 30 + name_length + extra_length, info.compress_size


@cache
def _bomb() -> bytes:
    """A header.json that expands past the importer's limit from a few kilobytes."""
    return zstandard.ZstdCompressor(level=1).compress(b" " * (MAX_JSON_BYTES + 1024))


# --- Strategies --------------------------------------------------------------------------------


class Mutant:
    """A mutated log: its bytes, and the recipe Hypothesis reports when it crashes something."""

    def __init__(self, log: str, recipe: str, data: bytes, model_version: str | None) -> None:
        self.log, self.recipe, self.data, self.model_version = log, recipe, data, model_version

    def __repr__(self) -> str:
        label = self.model_version if self.model_version is None else self.model_version[:40]
        return f"Mutant({self.log}: {self.recipe}; model_version={label!r}; {len(self.data)} B)"


WRONG_TYPES = [None, True, False, [], [None], [[]], {}, Obj([("value", 1)]), "", " "]
HOSTILE_NUMBERS = [
    Raw("NaN"), Raw("Infinity"), Raw("-Infinity"), Raw("1e400"), Raw("-1e400"), Raw("1e-400"),
    Raw("1" + "0" * 400), Raw("-" + "9" * 400), Raw("1" + "0" * 5000), Raw("0." + "0" * 5000),
    -1, 0, 2**31, 2**63, 10**12 + 1, 1e300, -0.0,
]  # fmt: skip
HOSTILE_TEXT = [
    "x", "\x00", "\ud800", "\u202e", "é", "x" * 300, "9" * 400, "2024-02-30T25:61:00",
    "1970-01-01", "9999-12-31T23:59:59Z", "-999999999-01-01",
]  # fmt: skip
# One of each kind, for the sweep over every field the importers read.
SWEEP = [
    None, True, [], {}, "x" * 300, "\x00", "\ud800", -1, "9999-12-31T23:59:59Z",
    Raw("NaN"), Raw("1e400"), Raw("1" + "0" * 400), Raw("1" + "0" * 5000),
]  # fmt: skip
VALUES = st.one_of(
    st.sampled_from(WRONG_TYPES),
    st.sampled_from(HOSTILE_NUMBERS),
    st.sampled_from(HOSTILE_TEXT),
    st.integers(-(2**80), 2**80),
    st.floats(),
    st.text(max_size=30),
)
DEPTHS = st.sampled_from([2, 50, 900, 5_000, 100_000])
WRONG_LABELS = ["", None, "vega-1", "nobody-0.1", "ORION-2.1", " orion-2.1", "o" * 300, "a\x00"]
MODEL_VERSIONS = st.one_of(st.just(LABEL), st.sampled_from(WRONG_LABELS))


def _json_mutation(draw: Any, log: Log) -> tuple[Any, str]:
    """The log's JSON tree with one thing wrong, and what it was."""
    op = draw(
        st.sampled_from(["set"] * 4 + ["delete"] * 2 + ["duplicate", "rename", "nest", "root"])
    )
    if op == "root":
        depth = draw(DEPTHS)
        wrap = Raw("[" * depth + log.json_text(log.document) + "]" * depth)
        document = draw(st.sampled_from([[log.document], wrap, Raw("null"), Raw("[]")]))
        return document, f"root: {dump(document, {})[:60]}…"
    pool = draw(st.sampled_from(["hot"] * 3 + ["focus", "paths"]))
    path = draw(st.sampled_from(getattr(log, pool)))
    value = draw(VALUES) if op in ("set", "duplicate") else None
    depth = draw(DEPTHS) if op == "nest" else 0
    new_key = draw(st.sampled_from(["", "Status", "eval ", "results\x00", "\U0001d522val"]))

    def apply(items: list[Any], index: int) -> None:
        pair = isinstance(items[index], tuple)
        key, current = items[index] if pair else (None, items[index])
        replaced = {
            "set": value,
            "nest": Raw("[" * depth + dump(current, log.memo) + "]" * depth),
        }
        if op == "delete":
            del items[index]
        elif op == "duplicate":
            items.insert(index + 1, (key, value) if pair else value)
        elif op == "rename" and pair:
            items[index] = (new_key, current)
        elif op in replaced:
            items[index] = (key, replaced[op]) if pair else replaced[op]

    shown = {"set": repr(value)[:60], "nest": depth, "rename": repr(new_key)}.get(op, "")
    return _edit(log.document, path, apply), f"{op} {list(path)} {shown}".strip()


def _byte_mutation(draw: Any, data: bytes) -> tuple[bytes, str]:
    size = len(data)
    op = draw(st.sampled_from(["flip", "truncate", "behead", "repeat", "cut", "insert"]))
    position = draw(st.integers(0, size - 1))
    if op == "flip":
        flips = draw(
            st.lists(
                st.tuples(st.integers(0, size - 1), st.integers(1, 255)), min_size=1, max_size=16
            )
        )
        mutable = bytearray(data)
        for where, mask in flips:
            mutable[where] ^= mask
        return bytes(mutable), f"flip {flips}"
    if op == "truncate":
        return data[:position], f"truncate at {position}"
    if op == "behead":
        return data[position:], f"drop the first {position} bytes"
    length = draw(st.integers(1, 4096))
    if op == "repeat":
        return data[:position] + data[position:][:length] * 2 + data[position + length :], (
            f"repeat {length} bytes at {position}"
        )
    if op == "cut":
        return data[:position] + data[position + length :], f"cut {length} bytes at {position}"
    junk = draw(st.binary(min_size=1, max_size=64))
    return data[:position] + junk + data[position:], f"insert {junk!r} at {position}"


def _zip_patch(draw: Any, data: bytes) -> tuple[bytes, str]:
    """header.json of the real archive, damaged in place."""
    local, central, start, length = _member_records(data, HEADER)
    out = bytearray(data)
    op = draw(st.sampled_from(["method", "size", "packed", "flags", "offset", "signature", "flip"]))
    if op == "method":
        method = draw(st.sampled_from([0, 8, 12, 14, 99]))
        struct.pack_into("<H", out, local + 8, method)
        struct.pack_into("<H", out, central + 10, method)
        return bytes(out), f"header.json claims compression method {method}"
    if op in ("size", "packed"):
        sizes = [0, 1, length - 1, length + 1, MAX_JSON_BYTES + 1, 2**32 - 2, 2**32 - 1]
        size = draw(st.sampled_from(sizes))
        struct.pack_into("<I", out, central + (24 if op == "size" else 20), size)
        return bytes(out), f"header.json claims a {op} size of {size}"
    if op == "flags":
        flags = draw(st.sampled_from([0x1, 0x8, 0x41, 0x800]))
        struct.pack_into("<H", out, central + 8, flags)
        struct.pack_into("<H", out, local + 6, flags)
        if flags == 0x800:  # names said to be UTF-8, and one that is not
            out[central + 46] = 0xFF
        return bytes(out), f"header.json has the flags {flags:#x}"
    if op == "offset":
        offset = draw(st.sampled_from([0, 1, local + 1, len(data), 2**32 - 2]))
        struct.pack_into("<I", out, central + 42, offset)
        return bytes(out), f"header.json's local header is said to be at {offset}"
    if op == "signature":
        out[local : local + 4] = b"PK\x07\x08"
        return bytes(out), "header.json's local header has the wrong signature"
    flips = draw(
        st.lists(st.tuples(st.integers(0, length - 1), st.integers(1, 255)), min_size=1, max_size=8)
    )
    for where, mask in flips:
        out[start + where] ^= mask
    return bytes(out), f"flip {flips} inside header.json's compressed bytes"


def _zip_rebuild(draw: Any, log: Log) -> tuple[bytes, str]:
    """The archive written again with header.json replaced, missing, repeated, a bomb, or
    compressed the way zipfile reads itself (stored, Deflate, bzip2, LZMA) and then damaged."""
    others = [(name, content, ZSTD) for name, content in log.members if name != HEADER]
    header = dict(log.members)[HEADER]
    op = draw(st.sampled_from(["json", "json", "json", "method", "drop", "twice", "bomb"]))
    if op == "json":
        document, recipe = _json_mutation(draw, log)
        text = log.json_text(document).encode("utf-8", "surrogatepass")
        return _zip([*others, (HEADER, text, ZSTD)]), f"header.json: {recipe}"
    if op == "drop":
        return _zip(others), "no header.json"
    if op == "twice":
        twin = header.replace(b'"success"', b'"error"')
        return _zip([*others, (HEADER, header, ZSTD), (HEADER, twin, ZSTD)]), "header.json twice"
    if op == "bomb":
        return _zip([*others, (HEADER, b"{}", ZSTD)], packed={HEADER: _bomb()}), "a zip bomb"
    method = draw(st.sampled_from([0, 8, 12, 14]))
    data, recipe = _zip_patch(draw, _zip([*others, (HEADER, header, method)]))
    return data, f"header.json compressed with method {method}, then: {recipe}"


CSV_TEXTS = [
    "", "nan", "inf", "-inf", "1e400", "-1", "1e12", "2**31", "x" * 200_000, '"', "\x00",
    "orion-2.1", "vega-1", "9999-12-31", "1e10", "0x10",
]  # fmt: skip
CSV_SWEEP = ["", "nan", "inf", "1e400", "-1", "x" * 200_000, '"', "\x00", "9999-12-31"]


def _csv_mutation(draw: Any, data: bytes) -> tuple[bytes, str]:
    rows = list(csv.reader(io.StringIO(data.decode())))
    op = draw(st.sampled_from(["cell", "cell", "row", "drop", "column"]))
    row = draw(st.integers(1 if op != "column" else 0, len(rows) - 1))
    if op == "cell":
        numbers = [5, 6, 7, 8]  # value, stderr, samples, completed_at: what gets converted
        column = draw(st.sampled_from([*numbers, *numbers, *range(len(rows[row]))]))
        text = draw(
            st.one_of(
                st.sampled_from(CSV_TEXTS),
                VALUES.map(lambda value: value if isinstance(value, str) else dump(value, {})),
            )
        )
        rows[row][column] = text
        recipe = f"row {row} column {column} = {text[:40]!r}"
    elif op == "row":
        rows.insert(row, [*rows[row][:1], "broken_task", *rows[row][2:]])
        recipe = f"row {row} repeated with another evaluation"
    elif op == "drop":
        rows = rows[:row] + rows[row + 1 :]
        recipe = f"row {row} dropped"
    else:
        rows[row] = rows[row][:-1] if draw(st.booleans()) else [*rows[row], "extra"]
        recipe = f"row {row} has the wrong number of columns"
    out = io.StringIO()
    csv.writer(out, lineterminator="\n").writerows(rows)
    return out.getvalue().encode("utf-8", "surrogatepass"), recipe


@st.composite
def mutants(draw: Any, log: Log) -> Mutant:
    kinds = {
        "eval": ["bytes", "zip", "rebuild", "rebuild"],
        "json": ["bytes", "json", "json"],
        "jsonl": ["bytes", "json"],
        "csv": ["bytes", "csv", "csv"],
    }[log.kind]
    kind = draw(st.sampled_from(kinds))
    if kind == "bytes":
        data, recipe = _byte_mutation(draw, log.data)
    elif kind == "zip":
        data, recipe = _zip_patch(draw, log.data)
    elif kind == "rebuild":
        data, recipe = _zip_rebuild(draw, log)
    elif kind == "csv":
        data, recipe = _csv_mutation(draw, log.data)
    else:
        document, recipe = _json_mutation(draw, log)
        data = log.json_text(document).encode("utf-8", "surrogatepass")
    return Mutant(log.name, recipe, data, draw(MODEL_VERSIONS))


def sweep(log: Log) -> list[Mutant]:
    """Every field the importers read, deleted or set to one value of each hostile kind."""
    found = []
    for path in log.hot:
        for value in ["(deleted)", *SWEEP]:

            def apply(items: list[Any], index: int, value: Any = value) -> None:
                if value == "(deleted)":
                    del items[index]
                elif isinstance(items[index], tuple):
                    items[index] = (items[index][0], value)
                else:
                    items[index] = value

            text = log.json_text(_edit(log.document, path, apply)).encode()
            recipe = f"{'.'.join(str(k) for k in _keys(log.document, path))} = {value!r:.40}"
            found.append(Mutant(log.name, recipe, text, LABEL))
    return found


def csv_sweep(log: Log) -> list[Mutant]:
    rows = list(csv.reader(io.StringIO(log.data.decode())))
    found = []
    for row in range(1, len(rows)):
        for column in range(len(rows[row])):
            for text in CSV_SWEEP:
                changed = [list(r) for r in rows]
                changed[row][column] = text
                out = io.StringIO()
                csv.writer(out, lineterminator="\n").writerows(changed)
                recipe = f"row {row} {rows[0][column]} = {text[:20]!r}"
                found.append(Mutant(log.name, recipe, out.getvalue().encode(), LABEL))
    return found
