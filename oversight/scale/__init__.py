"""A database at production scale, to measure the application where it will be used.

``manage.py seed_scale`` fills an empty database (defaults: 10 policies, 200 thresholds, 60
safeguards, 50 models, 1,000 model versions, 1,000 releases, 200,000 results, 10,000 signed
approvals and decisions, 500 people, 1,000,000 audit events) with what the services would have
produced, written by bulk inserts rather than one service call per object:

* the register: each policy version's items are inserted while it is a draft, its content is
  read back through ``governance.content``, must pass ``governance.validation``, and is hashed
  and signed by two governance leads before it is published, superseding the version in force
  of whichever policy (exactly one governs: the latest);
* results: runs and results per model version, then its determinations and required level
  from ``evaluations.determinations.assess`` (the function the recompute service calls) over
  exactly those runs; the re-evaluation intervals outlast the seeded months, so no evidence
  goes stale before the end;
* releases: each release's life (created, submitted, evidence recorded and verified by
  governance leads, approvals signed by designated authorities, evidence reworked and approved
  again, withdrawn) is played in time order, with the assessments and audit events the release
  services write; pauses and restrictions, most of them lifted, on releases, model versions
  and models;
* signatures are ``core.Signature`` rows over manifests built by ``core.signing.build_manifest``
  and signed with the deployment key (re-authenticated with ``scale-seed``);
* every change is an audit event, appended in time order with its seq, hash and scope, with
  sign-ins and sign-outs of the seeded people in between, up to the requested number of events
  (more if the data needs more).

At the end, in the same transaction, ``releases.services.gate_refresh`` runs on every release at
the seed's last moment and ``evaluations.recompute.recompute`` on a sample of model versions
(then rolled back): they must find nothing to change (no new audit event), or the whole seed is
rolled back.

Deterministic: the same options on an empty database give the same rows, ids included, and the
same times (from 2026-01-01T00:00:00Z). Not deterministic: the password hash (one random salt,
shared by every seeded person) and, between deployments, what the signing key decides (the
signature bytes, the key id in manifests and events, and so the chain's hashes from the first
signature on).
"""

from oversight.scale.common import ScaleError, Sizes
from oversight.scale.plans import Report, refuse_unless_empty
from oversight.scale.seeder import COUNTED, Seeder, content_digest, seed, table_counts

__all__ = [
    "COUNTED", "Report", "ScaleError", "Seeder", "Sizes", "content_digest", "refuse_unless_empty",
    "seed", "table_counts",
]  # fmt: skip
