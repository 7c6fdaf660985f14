"""Every string of the content app has a Simplified Chinese translation."""

from pathlib import Path

import polib

CATALOGUE = Path(__file__).resolve().parents[2] / "content/locale/zh_Hans/LC_MESSAGES/django.po"


def test_content_catalogue_is_complete():
    po = polib.pofile(str(CATALOGUE))
    assert not po.untranslated_entries()
    assert not po.fuzzy_entries()
    assert CATALOGUE.with_suffix(".mo").exists()
