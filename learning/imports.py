"""Imports in two steps, preview then confirm, shared by every importer (HR's roster,
the question bank). Nothing is written until the person has seen what will happen:

1. `preview(data, filename)` reads the whole file and works out, without writing, what
   importing it would create, change (field by field) and leave alone, with every
   error (row and column) and warning. The preview carries a fingerprint of that
   plan.
2. `apply(data, filename, fingerprint=…, options=…)` works the plan out again from
   the file and the database as they are now, refuses when it no longer matches the
   fingerprint the person confirmed (`PlanChanged`: somebody else changed the data
   meanwhile, show the new preview), and writes it in one transaction.

An importer is registered through the `register_importers` Wagtail hook, so apps
offer imports without learning importing them. Uploads wait between the two steps
as `ImportJob` rows with the file in private storage (learning/import_jobs.py)."""

import dataclasses
import hashlib
import json

from django.utils.translation import gettext_lazy

from wagtail import hooks

from .tabular import Problem

# Changed rows listed in full in a preview; the counts always cover every row.
PREVIEW_DETAIL_ROWS = 500


@dataclasses.dataclass
class Change:
    """One row that would create or change a record: `label` is what the person
    recognises it by ("张三 (BH1001)"), `fields` the (field label, old, new) texts
    that differ (old is "" for a new record)."""

    row: int | None
    label: str
    fields: list = dataclasses.field(default_factory=list)


@dataclasses.dataclass
class Preview:
    """What importing a file would do. Only a preview without errors can be applied."""

    kind: str
    rows: int = 0
    created: list = dataclasses.field(default_factory=list)  # Change
    updated: list = dataclasses.field(default_factory=list)  # Change
    unchanged: int = 0
    skipped: list = dataclasses.field(default_factory=list)  # Change: rows not imported, why
    errors: list = dataclasses.field(default_factory=list)  # Problem
    warnings: list = dataclasses.field(default_factory=list)  # Problem
    # Records the file leaves out that the person may act on in the confirm step
    # (the roster's leavers): dicts of plain values with at least "id" and "label".
    missing: list = dataclasses.field(default_factory=list)
    fingerprint: str = ""
    counts: dict = dataclasses.field(default_factory=dict)  # created, updated, … in full

    @property
    def can_apply(self):
        return not self.errors

    def seal(self, plan):
        """Set the counts and the fingerprint of `plan` (any JSON-able value that says
        exactly what would be written) and cut the detail lists to a readable size."""
        self.counts = {
            "created": len(self.created),
            "updated": len(self.updated),
            "unchanged": self.unchanged,
            "skipped": len(self.skipped),
            "errors": len(self.errors),
            "warnings": len(self.warnings),
            "missing": len(self.missing),
        }
        self.fingerprint = fingerprint(plan)
        self.created = self.created[:PREVIEW_DETAIL_ROWS]
        self.updated = self.updated[:PREVIEW_DETAIL_ROWS]
        self.skipped = self.skipped[:PREVIEW_DETAIL_ROWS]
        return self

    def to_json(self):
        data = dataclasses.asdict(self)
        for name in ("errors", "warnings"):
            data[name] = [dataclasses.asdict(p) for p in getattr(self, name)]
        return data

    @classmethod
    def from_json(cls, data):
        data = dict(data)
        for name in ("created", "updated", "skipped"):
            data[name] = [Change(**c) for c in data.get(name, [])]
        for name in ("errors", "warnings"):
            data[name] = [Problem(**p) for p in data.get(name, [])]
        return cls(**data)


class PlanChanged(Exception):
    """The file would now do something other than the preview the person confirmed."""


def fingerprint(plan):
    """A short hash of a JSON-able plan: equal plans, equal fingerprints."""
    text = json.dumps(plan, sort_keys=True, ensure_ascii=False, default=str)
    return hashlib.sha256(text.encode()).hexdigest()[:32]


class Importer:
    """Base for an import kind. Subclasses set `kind`, `label`, `permission`,
    `template_url_name` and implement `preview` and `apply`.

    `preview(data, filename, progress=None)` returns a sealed `Preview`.
    `apply(data, filename, fingerprint, options, progress=None)` raises
    `PlanChanged` when the plan moved, else writes and returns a JSON-able result:
    {"created": n, "updated": n, "unchanged": n, ...} plus kind-specific keys.
    `options` holds what the person chose when confirming, and "requested_by" (the
    user's id). A result's "sealed" value is kept encrypted for the requester to
    download once through `sealed_download(value) -> (bytes, filename)`.
    `progress(done, total)` may be called as rows are read or written."""

    kind = ""
    label = gettext_lazy("Import")
    permission = ""
    template_url_name = ""  # the downloadable template's URL name
    accept = ".xlsx,.xls,.csv"

    def allowed(self, user):
        return user.has_perm(self.permission)

    def preview(self, data, filename, progress=None):
        raise NotImplementedError

    def apply(self, data, filename, fingerprint, options, progress=None):
        raise NotImplementedError

    def sealed_download(self, sealed):
        return None


def importers():
    """{kind: Importer} from every app's `register_importers` hook."""
    found = {}
    for hook in hooks.get_hooks("register_importers"):
        for importer in hook():
            found[importer.kind] = importer
    return found


def get_importer(kind):
    return importers().get(kind)


def write_preview(preview, stdout, stderr, detail=20):
    """The preview as a management command prints it (`--dry-run`): the counts, every
    problem and warning, and the first changes."""
    counts = preview.counts
    stdout.write(
        f"{preview.rows} row(s): {counts['created']} new, {counts['updated']} changed, "
        f"{counts['unchanged']} unchanged, {counts['skipped']} skipped, "
        f"{counts['missing']} missing from the file; {counts['errors']} problem(s), "
        f"{counts['warnings']} warning(s)."
    )
    for problem in preview.errors:
        stderr.write(f"Problem: {problem}")
    for problem in preview.warnings:
        stdout.write(f"Warning: {problem}")
    for title, changes in (("New", preview.created), ("Changed", preview.updated)):
        for change in changes[:detail]:
            fields = "; ".join(
                f"{label}: {old} -> {new}" if old else f"{label}: {new}"
                for label, old, new in change.fields
            )
            stdout.write(f"{title}: {change.label} {fields}".rstrip())
    for change in preview.skipped[:detail]:
        reasons = "; ".join(new for _label, _old, new in change.fields)
        stdout.write(f"Skipped: row {change.row}: {change.label} {reasons}".rstrip())
    for missing in preview.missing[:detail]:
        stdout.write(f"Missing: {missing['label']} {missing.get('department', '')}".rstrip())
