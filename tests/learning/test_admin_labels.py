"""Our catalogues are merged with Wagtail's by message id: an entry of ours must not
change what Wagtail's own labels say (a speaker's "title" is 职称; every other
"title", the page title in Wagtail's editor included, is 标题)."""

from django.utils import translation

from wagtail.models import Page

from learning.models import Speaker, StudyPlan


def test_a_speakers_title_is_a_professional_title_and_every_other_title_a_heading():
    with translation.override("zh-hans"):
        assert str(Speaker._meta.get_field("title").verbose_name) == "职称"
        assert str(StudyPlan._meta.get_field("title").verbose_name) == "标题"
        assert str(Page._meta.get_field("title").verbose_name) == "标题"
