"""Snippets that lectures, questions and publicity content share."""

from django.db import models
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy

from wagtail.images import get_image_model_string
from wagtail.search import index


class LawTopic(index.Indexed, models.Model):
    """A law or body of rules studied and examined: 民法典, 保密法, 宪法, 党内法规 …"""

    name = models.CharField(_("name"), max_length=64, unique=True)
    slug = models.SlugField(_("slug"), max_length=64, unique=True, allow_unicode=True)
    description = models.TextField(_("description"), blank=True)
    sort_order = models.PositiveIntegerField(_("sort order"), default=100)

    search_fields = [index.SearchField("name"), index.AutocompleteField("name")]

    class Meta:
        verbose_name = _("law topic")
        verbose_name_plural = _("law topics")
        ordering = ["sort_order", "name"]

    def __str__(self):
        return self.name


class Speaker(index.Indexed, models.Model):
    """Someone who gives lectures: a law professor, a district leader, a judge."""

    name = models.CharField(_("name"), max_length=64)
    title = models.CharField(
        pgettext_lazy("speaker", "title"),
        max_length=64,
        blank=True,
        help_text=_("e.g. professor"),
    )
    affiliation = models.CharField(_("affiliation"), max_length=128, blank=True)
    photo = models.ForeignKey(
        get_image_model_string(),
        verbose_name=_("photo"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )

    search_fields = [index.SearchField("name"), index.SearchField("affiliation")]

    class Meta:
        verbose_name = _("speaker")
        verbose_name_plural = _("speakers")
        ordering = ["name"]
        constraints = [
            models.UniqueConstraint(fields=["name", "affiliation"], name="unique_speaker")
        ]

    def __str__(self):
        return f"{self.name}（{self.affiliation}）" if self.affiliation else self.name
