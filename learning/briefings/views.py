"""The official's side of 明白纸: confirming a sheet as read. The sheet's page itself is
served by Wagtail (BriefingSheetPage); its form posts here, and only the signed-in
person is ever recorded, whatever the request names."""

import ipaddress

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ImproperlyConfigured, PermissionDenied
from django.http import Http404
from django.shortcuts import redirect
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from allauth.account.adapter import get_adapter

from . import receipts
from .models import BriefingSheetPage


def client_ip(request):
    """The client's address as allauth's per-address rate limits read it (REMOTE_ADDR,
    or what the deployment says its proxy passes); None when there is none to trust."""
    try:
        return str(ipaddress.ip_address(get_adapter(request).get_client_ip(request)))
    except (PermissionDenied, ImproperlyConfigured, ValueError):
        return None


def request_meta(request):
    return {"ip": client_ip(request), "user_agent": request.headers.get("User-Agent", "")}


@login_required
@require_POST
def confirm(request, pk):
    """Confirm a live sheet as read by the signed-in official; back to the sheet,
    which then shows the right answers."""
    sheet = BriefingSheetPage.objects.live().filter(pk=pk).first()
    if sheet is None:
        raise Http404
    try:
        done = receipts.confirm(sheet, request.user, request.POST, request_meta(request))
    except receipts.BriefingRefused as refusal:
        raise PermissionDenied(str(refusal)) from refusal
    if done.created:
        messages.success(request, _("Thank you: you have confirmed that you read it."))
    return redirect(sheet.url + "#answers")
