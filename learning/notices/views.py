"""The signed-in person's notice settings: which optional channels reach them, and
what address each channel has for them (masked)."""

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods

from ..models import NoticeChannel
from .backends import BACKENDS
from .forms import NoticePreferenceForm
from .services import enabled_channels, optional_channels, recipients


@login_required
@require_http_methods(["GET", "POST"])
def notice_preferences(request):
    form = NoticePreferenceForm(
        request.POST if request.method == "POST" else None,
        user=request.user,
        channels=optional_channels(),
    )
    if request.method == "POST" and form.is_valid():
        form.save()
        messages.success(request, _("Your notice settings were saved."))
        return redirect("learning:notice_preferences")
    recipient = recipients([request.user])[request.user.pk]
    addresses = []
    for channel in enabled_channels():
        backend = BACKENDS[channel]
        address = backend.address(recipient)
        addresses.append(
            {
                "label": NoticeChannel(channel).label,
                "address": backend.mask(address) if address else "",
                "optional": backend.optional,
            }
        )
    return render(
        request,
        "learning/notices/preferences.html",
        {"form": form, "addresses": addresses},
    )
