"""Who may see an uploaded document or image, and sending its file.

Nothing uploaded is public. Every file goes through a view that asks first: a
document through Wagtail's serve view (`/documents/<id>/<file>`, checked by the
`before_serve_document` hook), an image rendition through `/media/images/<name>`
(learning.views.media_file), a screen's posters and videos through its token
(content.views.screen_media). Original images have no address; reflections and
exports are sent only by their own views, which check who asks.

The rule: back-office users (organizers, HR, superusers) see every document and image;
anyone else signed in sees those that a live lecture they may open uses, its
audience being Wagtail's privacy setting on the lecture or a page above it (groups,
password, sign-in). Uses are read from Wagtail's reference index, which follows the
lecture's published body (StreamField blocks and rich-text document links)."""

import functools
import mimetypes
import os
from importlib import import_module

from django.conf import settings
from django.contrib.contenttypes.models import ContentType
from django.db.models import IntegerField, Subquery
from django.db.models.functions import Cast
from django.http import FileResponse, Http404
from django.utils.cache import patch_cache_control

from wagtail.documents import get_document_model
from wagtail.images import get_image_model
from wagtail.models import ReferenceIndex
from wagtail.utils import sendfile_streaming_backend

from .fast import back_office
from .models import LecturePage

RENDITIONS_FOLDER = "images/"
# Browsers keep a file for an hour: a withdrawn permission reaches them within it.
MAX_AGE = 3600


def lectures_using(model, pk):
    """Live lectures whose published content uses the document or image `model` `pk`."""
    references = ReferenceIndex.objects.filter(
        to_content_type=ContentType.objects.get_for_model(model),
        to_object_id=str(pk),
        content_type=ContentType.objects.get_for_model(LecturePage),
    )
    page_ids = references.annotate(page_id=Cast("object_id", IntegerField())).values("page_id")
    return (
        LecturePage.objects.live()
        .filter(pk__in=Subquery(page_ids))
        .only("path", "depth", "alias_of")
    )


def may_open(request, lecture):
    """Whether the lecture's audience includes the person asking: every view
    restriction on it and the pages above it accepts the request, as when the page
    itself is served."""
    return all(r.accept_request(request) for r in lecture.get_view_restrictions())


def may_see(request, model, pk):
    """Whether the signed-in user of `request` may have the document or image `model`
    `pk`."""
    if back_office.can_open_back_office(request.user):
        return True
    return any(may_open(request, lecture) for lecture in lectures_using(model, pk))


def image_id_of_rendition(name):
    """The pk of the image whose rendition is stored under `name`, or None."""
    Rendition = get_image_model().get_rendition_model()
    return Rendition.objects.filter(file=name).values_list("image_id", flat=True).first()


def rendition_storage():
    return get_image_model().get_rendition_model()._meta.get_field("file").storage


def document_storage():
    return get_document_model()._meta.get_field("file").storage


def _sendfile():
    """SENDFILE_BACKEND's sendfile when a deployment sets one, else Wagtail's
    streaming one: the same choice Wagtail's document view makes."""
    backend = getattr(settings, "SENDFILE_BACKEND", None)
    module = import_module(backend) if backend else sendfile_streaming_backend
    return module.sendfile


def file_response(request, storage, name):
    """The stored file `name`, inline: sent from a local disk as Wagtail sends
    documents, else read from the storage. Never kept by a shared cache, never run
    as a page."""
    try:
        path = storage.path(name)
    except NotImplementedError:
        path = None
    if path is not None and os.path.isfile(path):
        response = _sendfile()(request, path)  # a 304 when the browser's copy is current
    else:
        try:
            response = FileResponse(storage.open(name, "rb"))
        except FileNotFoundError as missing:
            raise Http404 from missing
    if response.status_code == 200:
        response["Content-Type"] = mimetypes.guess_type(name)[0] or "application/octet-stream"
        response["Content-Disposition"] = "inline"
    return private(response)


def private(response):
    """A file response for one person's eyes: kept only by their browser (for
    MAX_AGE), never run as a page or sniffed into another type."""
    response["Cache-Control"] = f"private, max-age={MAX_AGE}"
    response["Content-Security-Policy"] = "default-src 'none'"
    response["X-Content-Type-Options"] = "nosniff"
    return response


def private_download(view):
    """Wagtail's document view, its answers marked private (each is checked per
    person), without the `Content-Encoding: None` Wagtail's sendfile writes for a
    file it found no encoding for."""

    @functools.wraps(view)
    def serve(request, *args, **kwargs):
        response = view(request, *args, **kwargs)
        if response.get("Content-Encoding") == "None":
            del response["Content-Encoding"]
        patch_cache_control(response, private=True)
        return response

    return serve
