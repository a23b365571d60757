#!/usr/bin/env python3
"""Verify an audit export bundle without the application.

Usage: python3 verify_bundle.py [BUNDLE_DIR_OR_ZIP]   (default: the directory holding this file)

Needs Python 3.9+ and either the ``cryptography`` package or the ``openssl`` command (1.1.1+)
for Ed25519. Exit status 0 when everything verifies, 1 with one line per problem otherwise.

What it checks (see README.md in the bundle):
1. bundle.json is signed by the deployment key in public_key.pem (bundle.sig), and every file
   it lists has the SHA-256 it records;
2. every event in events.jsonl hashes to its own ``hash`` (SHA-256 of the canonical JSON of
   the event without ``hash``) and appears with that hash in chain.csv;
3. chain.csv is an unbroken chain: consecutive seq, each ``prev_hash`` the hash before it;
4. every checkpoint is signed by the deployment key, and where it falls inside chain.csv the
   chain holds the hash it recorded;
5. every signature verifies over its manifest, the manifest has the recorded SHA-256, and the
   event that recorded the signature names that SHA-256.
"""

from __future__ import annotations

import base64
import csv
import hashlib
import io
import json
import math
import shutil
import subprocess  # nosec B404  # runs openssl only
import sys
import tempfile
import zipfile
from pathlib import Path

PLAIN_LIMIT = 10**21
GENESIS = "0" * 64


# --- Canonical JSON (the same rules as the application's core/canonical.py) -----------------
def _normalise(value):
    if isinstance(value, bool) or value is None or isinstance(value, str):
        return value
    if isinstance(value, int):
        return value if abs(value) < PLAIN_LIMIT else float(value)
    if isinstance(value, float):
        if not math.isfinite(value):
            raise ValueError("NaN and infinity have no JSON form")
        return int(value) if value.is_integer() and abs(value) < PLAIN_LIMIT else value
    if isinstance(value, dict):
        return {key: _normalise(item) for key, item in value.items()}
    if isinstance(value, list):
        return [_normalise(item) for item in value]
    raise ValueError(f"{type(value).__name__} is not a JSON value")


def canonical_json(value) -> bytes:
    return json.dumps(
        _normalise(value),
        sort_keys=True,
        separators=(",", ":"),
        ensure_ascii=False,
        allow_nan=False,
    ).encode("utf-8")


# --- Ed25519 ----------------------------------------------------------------------------------
class Verifier:
    def __init__(self, public_pem: bytes):
        self.public_pem = public_pem
        try:
            from cryptography.hazmat.primitives.serialization import load_pem_public_key
        except ImportError:
            self.key = None
            if shutil.which("openssl") is None:
                sys.exit("Needs the `cryptography` package or the `openssl` command.")
        else:
            self.key = load_pem_public_key(public_pem)

    def verify(self, signature_b64: str, message: bytes) -> bool:
        try:
            signature = base64.b64decode(signature_b64, validate=True)
        except ValueError:
            return False
        if self.key is not None:
            from cryptography.exceptions import InvalidSignature

            try:
                self.key.verify(signature, message)
            except InvalidSignature:
                return False
            return True
        with tempfile.TemporaryDirectory() as tmp:
            paths = {name: Path(tmp) / name for name in ("key.pem", "msg", "sig")}
            paths["key.pem"].write_bytes(self.public_pem)
            paths["msg"].write_bytes(message)
            paths["sig"].write_bytes(signature)
            done = subprocess.run(  # nosec B603 B607  # the auditor's openssl, fixed argv
                [
                    "openssl",
                    "pkeyutl",
                    "-verify",
                    "-pubin",
                    "-inkey",
                    str(paths["key.pem"]),
                    "-rawin",
                    "-in",
                    str(paths["msg"]),
                    "-sigfile",
                    str(paths["sig"]),
                ],
                capture_output=True,
                check=False,
            )
            return done.returncode == 0


# --- The bundle -------------------------------------------------------------------------------
def _files(location: Path) -> dict[str, bytes]:
    if location.is_file():
        with zipfile.ZipFile(location) as archive:
            names = [n for n in archive.namelist() if not n.endswith("/")]
            prefix = names and all(n.startswith(names[0].split("/")[0] + "/") for n in names)
            return {(n.split("/", 1)[1] if prefix else n): archive.read(n) for n in names}
    return {
        str(p.relative_to(location)): p.read_bytes() for p in location.rglob("*") if p.is_file()
    }


def _jsonl(data: bytes):
    for number, line in enumerate(data.decode("utf-8").splitlines(), start=1):
        if line.strip():
            yield number, json.loads(line)


def verify(location: Path) -> tuple[list[str], dict]:
    files = _files(location)
    problems: list[str] = []
    for required in ("bundle.json", "bundle.sig", "public_key.pem"):
        if required not in files:
            return [f"{required} is missing: this is not a complete bundle"], {}
    verifier = Verifier(files["public_key.pem"])
    manifest = json.loads(files["bundle.json"])
    if not verifier.verify(files["bundle.sig"].decode().strip(), files["bundle.json"]):
        problems.append("bundle.json: its signature does not verify with public_key.pem")
    for name, digest in sorted(manifest.get("files", {}).items()):
        if name not in files:
            problems.append(f"{name}: listed in bundle.json but missing")
        elif hashlib.sha256(files[name]).hexdigest() != digest:
            problems.append(f"{name}: its SHA-256 is not the one bundle.json records")

    chain: dict[int, tuple[str, str]] = {}
    previous = None
    for row in csv.DictReader(io.StringIO(files.get("chain.csv", b"").decode("utf-8"))):
        seq, prev_hash, digest = int(row["seq"]), row["prev_hash"], row["hash"]
        if previous is not None:
            if seq != previous[0] + 1:
                problems.append(f"chain: seq {previous[0] + 1} is missing before seq {seq}")
            elif prev_hash != previous[1]:
                problems.append(f"chain: seq {seq} does not link to seq {previous[0]}")
        elif seq == 1 and prev_hash != GENESIS:
            problems.append("chain: seq 1 does not start from the genesis hash")
        chain[seq] = (prev_hash, digest)
        previous = (seq, digest)

    events: dict[int, dict] = {}
    for line, event in _jsonl(files.get("events.jsonl", b"")):
        seq = event.get("seq")
        body = {key: value for key, value in event.items() if key != "hash"}
        if hashlib.sha256(canonical_json(body)).hexdigest() != event.get("hash"):
            problems.append(
                f"event seq {seq} (events.jsonl line {line}) has been altered: its content "
                "does not match its hash"
            )
        elif chain.get(seq) != (event.get("prev_hash"), event.get("hash")):
            problems.append(f"event seq {seq} is not the event the chain holds at seq {seq}")
        events[seq] = event

    checkpoints = 0
    for _, checkpoint in _jsonl(files.get("checkpoints.jsonl", b"")):
        checkpoints += 1
        signed = checkpoint["manifest"].encode("utf-8")
        fields = json.loads(signed)
        if not verifier.verify(checkpoint["signature"], signed):
            problems.append(f"checkpoint at seq {fields.get('seq')}: its signature does not verify")
        elif fields.get("seq") in chain and chain[fields["seq"]][1] != fields.get("head_hash"):
            problems.append(
                f"checkpoint at seq {fields['seq']}: the chain no longer holds the hash it "
                "recorded (the chain was rewritten)"
            )

    recorded = {
        str(e["object_id"]): (e.get("after") or {}).get("manifest_sha256")
        for e in events.values()
        if e.get("action") == "core.signature.created"
    }
    signatures = 0
    for _, signature in _jsonl(files.get("signatures.jsonl", b"")):
        signatures += 1
        manifest_bytes = signature["manifest"].encode("utf-8")
        name = f"signature {signature['id']} ({signature['printed_name']})"
        if hashlib.sha256(manifest_bytes).hexdigest() != signature["manifest_sha256"]:
            problems.append(f"{name}: the manifest does not have its recorded SHA-256")
        elif not verifier.verify(signature["signature"], manifest_bytes):
            problems.append(f"{name}: the signature does not verify over its manifest")
        elif str(signature["id"]) in recorded and (
            recorded[str(signature["id"])] != signature["manifest_sha256"]
        ):
            problems.append(f"{name}: the audit event recorded a different manifest")
    summary = {
        "events": len(events),
        "chain": [min(chain), max(chain)] if chain else [],
        "checkpoints": checkpoints,
        "signatures": signatures,
    }
    return problems, summary


def main(argv: list[str]) -> int:
    location = Path(argv[1]) if len(argv) > 1 else Path(__file__).resolve().parent
    problems, summary = verify(location)
    for problem in problems:
        print(f"FAIL {problem}")
    if problems:
        return 1
    chain = summary["chain"]
    print(
        f"OK {summary['events']} events, chain seq {chain[0]}..{chain[1]} intact, "
        f"{summary['checkpoints']} checkpoints and {summary['signatures']} signatures verified"
        if chain
        else f"OK {summary['events']} events (empty chain)"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
