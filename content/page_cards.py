"""Lecture pages on the lobby screens (电子屏): "Show on screens" turns a live lecture
page (a case page, 以案释法, included) into a lecture-highlight publicity item with its
QR code, as a draft the organizer finishes and publishes in the item's editor. A page
keeps one such item: a second click reopens it. Exposed as a page header and listing
button for lecture pages (wagtail_hooks.py); other apps link to it by its URL name."""

from django.db import transaction
from django.shortcuts import get_object_or_404, redirect
from django.template.response import TemplateResponse
from django.urls import path, reverse
from django.utils.translation import gettext as _

from wagtail.admin import messages
from wagtail.admin.admin_url_finder import AdminURLFinder
from wagtail.admin.auth import permission_denied
from wagtail.admin.widgets import Button

from learning.models import LecturePage

from .models import PublicityItem

PERMISSION = "content.add_publicityitem"
URL_NAME = "content_page_card"


def card_for(lecture, user=None):
    """The lecture's highlight item, created as a draft when it has none. Returns
    (item, created)."""
    with transaction.atomic():
        LecturePage.objects.select_for_update().filter(pk=lecture.pk).first()
        item = (
            PublicityItem.objects.filter(kind=PublicityItem.Kind.LECTURE, lecture=lecture)
            .order_by("pk")
            .first()
        )
        if item is not None:
            return item, False
        item = PublicityItem(
            title=lecture.title[:120], kind=PublicityItem.Kind.LECTURE, lecture=lecture, live=False
        )
        item.save()
        item.save_revision(user=user)
    return item, True


def show_on_screens(request, page_id):
    """GET asks to confirm (or opens the item the page already has); POST makes it."""
    if not request.user.has_perm(PERMISSION):
        return permission_denied(request)
    lecture = get_object_or_404(LecturePage.objects.live(), pk=page_id)
    existing = PublicityItem.objects.filter(kind=PublicityItem.Kind.LECTURE, lecture=lecture)
    if request.method == "POST" or existing.exists():
        item, created = card_for(lecture, request.user)
        if created:
            messages.success(
                request,
                _("A lecture highlight for “%(title)s” was drafted: check it and publish it.")
                % {"title": lecture.title},
            )
        return redirect(AdminURLFinder(request.user).get_edit_url(item))
    return TemplateResponse(
        request,
        "content/admin/page_card.html",
        {"lecture": lecture, "page_title": _("Show on screens")},
    )


def admin_urls():
    return [path("page-cards/<id:page_id>/", show_on_screens, name=URL_NAME)]


def _button(page, user):
    specific_class = page.specific_class
    if not page.live or specific_class is None or not issubclass(specific_class, LecturePage):
        return
    if not user.has_perm(PERMISSION):
        return
    yield Button(
        _("Show on screens"),
        reverse(URL_NAME, args=[page.pk]),
        icon_name="desktop",
        priority=90,
        attrs={"data-page-card": page.pk},
    )


def header_buttons(page, user, view_name=None, next_url=None):
    yield from _button(page, user)


def listing_buttons(page, user, next_url=None):
    yield from _button(page, user)
