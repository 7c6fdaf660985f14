"""Every user-facing string has a zh-hans translation, and the compiled catalogues
match their sources, so a new string without a translation fails the build."""

from pathlib import Path

import polib
import pytest

ROOT = Path(__file__).resolve().parent.parent
CATALOGUES = sorted(
    p for p in ROOT.glob("**/locale/zh_Hans/LC_MESSAGES/django.po") if ".venv" not in p.parts
)


def test_catalogues_exist():
    names = {p.relative_to(ROOT).parts[0] for p in CATALOGUES}
    assert {"locale", "learning"} <= names


@pytest.mark.parametrize("path", CATALOGUES, ids=lambda p: str(p.relative_to(ROOT)))
def test_every_entry_is_translated(path):
    catalogue = polib.pofile(str(path))
    untranslated = [e.msgid for e in catalogue.untranslated_entries()]
    fuzzy = [e.msgid for e in catalogue.fuzzy_entries()]
    assert not untranslated, f"untranslated in {path}: {untranslated}"
    assert not fuzzy, f"fuzzy in {path}: {fuzzy}"
    assert catalogue.metadata.get("Plural-Forms", "").startswith("nplurals=1")


@pytest.mark.parametrize("path", CATALOGUES, ids=lambda p: str(p.relative_to(ROOT)))
def test_compiled_catalogue_is_current(path):
    source = {
        (e.msgctxt, e.msgid): e.msgstr or e.msgstr_plural.get(0)
        for e in polib.pofile(str(path)).translated_entries()
    }
    compiled = {
        (e.msgctxt, e.msgid): e.msgstr or e.msgstr_plural.get(0)
        for e in polib.mofile(str(path.with_suffix(".mo")))
        if e.msgid
    }
    assert compiled == source, f"run `make messages` to recompile {path.with_suffix('.mo')}"
