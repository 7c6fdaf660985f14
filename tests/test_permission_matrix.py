"""Every URL the project serves has an access rule here, and every rule is checked
for every role. A new view without a rule fails `test_every_url_has_a_rule`, so
nobody adds an endpoint without deciding who may use it."""

import re

from django.urls import URLPattern, URLResolver, get_resolver, reverse

import pytest

from learning import roles
from tests.factories import OfficialFactory, UserFactory

ROLES = ("anonymous", "official", "organizer", "hr", "superuser")

# Specs: who may open a route with a plain GET.
PUBLIC = "public"  # anyone, signed in or not
SIGNED_IN = "signed_in"  # any signed-in user; anonymous visitors go to sign in
BACK_OFFICE = "back_office"  # Wagtail admin: officials 403, anonymous to sign in
HR_ONLY = "hr_only"  # admin screens for HR (and superusers) only
ACCOUNT = "account"  # allauth's pages: never a server error, whoever asks
NOT_GET = "not_get"  # POST-only endpoints: a GET is refused for everyone
TOKEN = "token"  # screens: authenticated by a secret token in the URL
OWNER = "owner"  # one official's own object: others get 404, anonymous visitors sign in
REPORTS = "reports"  # HR and organizers read (200); officials 403; anonymous to sign in
# Uploads (documents, image renditions): anonymous to sign in; a made-up name is a 404;
# real files answer each role as test_uploads_answer_each_role_exactly says.
UPLOAD = "upload"
# Marking screens: organizers (and superusers) mark, 200 (404 for an id naming nothing);
# HR is in the admin without the permission: Wagtail's refusal, to the dashboard.
MARKERS = "markers"

RULES = [
    (r"^healthz$", PUBLIC),
    (r"^$", SIGNED_IN),
    (r"^i18n/setlang/$", NOT_GET),
    (r"^accounts/", ACCOUNT),
    (r"^admin/logout/$", ACCOUNT),
    (r"^admin/(jsi18n|sprite)", PUBLIC),  # translations and icons for the admin UI
    (r"^admin/password_reset/", ACCOUNT),
    # An upload waiting for its confirmation, and its result: its uploader's only.
    (r"^admin/(roster|question_import)/<id:pk>/", OWNER),
    (r"^admin/roster/", HR_ONLY),
    (r"^admin/reports/behind/remind/$", NOT_GET),
    # The drafted year-end report (.docx): the year-end figures' readers.
    (r"^admin/reports/year-end\.docx$", REPORTS),
    (r"^admin/reports/(behind|register|year-end)", REPORTS),
    (r"^admin/reports/exports/request/$", NOT_GET),
    # An export's file (its requester's only) and an official's study record (within
    # the viewer's report scope): made-up ids name nothing.
    (r"^admin/reports/exports/<id:pk>/download/$", OWNER),
    (r"^admin/reports/exports/records/<id:official_id>\.pdf$", OWNER),
    (r"^admin/reports/completion/(|xlsx/)$", REPORTS),
    # Drill-down by id: an id that names nothing is a 404 for those who may read reports.
    (r"^admin/reports/completion/(department|official)/<id:pk>/$", REPORTS),
    # Certificates: HR's look-up of a code (REPORTS), and voiding a result (organizers;
    # HR is refused, a made-up id names nothing).
    (r"^admin/certificates/$", REPORTS),
    (r"^admin/results/<id:pk>/void/$", OWNER),
    (r"^admin/marking/", MARKERS),
    # The meeting law-study agenda (会前学法): organizers' actions, refused to HR as
    # marking is (Wagtail's refusal, to the dashboard); a sign-in list upload waiting for
    # its confirmation is its uploader's only.
    (r"^admin/agenda/<id:pk>/held/$", MARKERS),
    (r"^admin/agenda/<id:pk>/cancel/$", MARKERS),
    (r"^admin/agenda/sessions/<id:pk>/attendance/$", MARKERS),
    (r"^admin/agenda/sign-in-template/$", MARKERS),
    (r"^admin/agenda_attendance/<id:session>/$", MARKERS),
    (r"^admin/agenda_attendance/jobs/<id:pk>/", OWNER),
    # The notice delivery log: HR and organizers read it, officials 403.
    (r"^admin/notices/deliveries/", REPORTS),
    # 明白纸 report (per sheet, its xlsx, reminders by POST): HR and organizers, officials
    # 403; a made-up sheet id is a 404, a GET of the reminder 405.
    (r"^admin/briefings/", REPORTS),
    # Urgent notices on the screens: organizers start and end them (200; a made-up id is
    # a 404); HR is refused as marking is (Wagtail's refusal, to the dashboard).
    (r"^admin/screen-notices/$", MARKERS),
    (r"^admin/screen-notices/<id:pk>/end/$", MARKERS),
    # A court observation turned into a case (以案释法), and "Show on screens" for a
    # lecture page: organizers (a made-up id is a 404); HR is refused as marking is.
    (r"^admin/observations/<id:pk>/case/$", MARKERS),
    (r"^admin/page-cards/<id:page_id>/$", MARKERS),
    (r"^admin/", BACK_OFFICE),
    # Wagtail's front-end login for private pages leads to allauth's.
    (r"^_util/login/$", ACCOUNT),
    (r"^_util/authenticate_with_password/", NOT_GET),
    (r"^documents/authenticate_with_password/", NOT_GET),
    (r"^me/record/$", SIGNED_IN),
    (r"^me/notices/$", SIGNED_IN),  # one's own notice channels
    # The design system's page: back-office staff (organizers, HR, superusers) 200,
    # officials 403, anonymous visitors to sign in, as REPORTS checks.
    (r"^styleguide/$", REPORTS),
    (r"^manifest\.webmanifest$", PUBLIC),  # the PWA manifest, fetched without cookies
    (r"^study/<id:lecture_id>/heartbeat/$", NOT_GET),
    # Confirming a 明白纸 as read: the signed-in official's own receipt, by POST only.
    (r"^briefing-receipts/<id:pk>/confirm/$", NOT_GET),
    (r"^exams/$", SIGNED_IN),
    (r"^exams/notebook/$", SIGNED_IN),
    (r"^exams/record\.pdf$", SIGNED_IN),  # the signed-in official's own study record
    (r"^exams/<", OWNER),
    (r"^exams/quiz/<", OWNER),  # a lecture's quiz and the official's own tries
    (r"^exams/certificates/<id:pk>/", OWNER),  # my certificate's PDF
    (r"^verify/", PUBLIC),  # a certificate's public check by its code, no sign-in
    (r"^observations/$", SIGNED_IN),
    (r"^observations/checkin/<str:token>/$", OWNER),
    (r"^observations/<", OWNER),
    (r"^screens/<str:token>/", TOKEN),  # the player, its playlist, plays and media
    (r"^documents/\(\\d\+\)/", UPLOAD),
    (r"^media/<path:name>$", UPLOAD),
    # Wagtail serves the page tree last; pages check sign-in themselves.
    (r"^\(\(\?:\[\\w\\-\]\+/\)\*\)$", SIGNED_IN),
]


def _routes(resolver=None, prefix=""):
    resolver = resolver or get_resolver()
    for pattern in resolver.url_patterns:
        route = prefix + str(pattern.pattern)
        if isinstance(pattern, URLResolver):
            yield from _routes(pattern, route)
        elif isinstance(pattern, URLPattern):
            yield route.replace("^", "").replace("\\Z", "").replace("$", ""), pattern


ROUTES = sorted({route: pattern for route, pattern in _routes()}.items())


def rule_for(route):
    for regex, spec in RULES:
        if re.search(regex, route):
            return spec
    return None


def test_every_url_has_a_rule():
    missing = [route for route, _ in ROUTES if rule_for(route) is None]
    assert not missing, f"URLs without an access rule in tests/test_permission_matrix.py: {missing}"


def test_our_ids_are_bounded_so_a_huge_id_is_never_a_server_error(client, superuser):
    """Our own routes take ids with the `id` converter (at most 18 digits): a longer
    number would overflow a database lookup on SQLite and answer 500."""
    ours = [
        route
        for route, pattern in ROUTES
        if pattern.callback.__module__.split(".")[0] in ("learning", "exams", "content")
    ]
    unbounded = [route for route in ours if "<int:" in route]
    assert not unbounded, unbounded
    with_ids = [route for route in ours if "<id:" in route]
    assert len(with_ids) > 10
    client.force_login(superuser)
    for route in with_ids:
        filled = re.sub(r"<id:\w+>", "9" * 20, route)
        filled = re.sub(r"<(?:\w+:)?\w+>", "no-such-thing", filled)
        assert client.get("/" + filled).status_code < 500, route


def _plain(route):
    return "<" not in route and "(" not in route and "[" not in route and "*" not in route


# Logout pages go last: they end the session the other checks use.
PLAIN_ROUTES = sorted(
    ((route, rule_for(route)) for route, _ in ROUTES if _plain(route)),
    key=lambda item: "logout" in item[0],
)


@pytest.fixture
def client_for(client, db):
    def make(role):
        if role == "superuser":
            client.force_login(UserFactory(is_superuser=True, is_staff=True))
        elif role == "official":
            client.force_login(OfficialFactory().user)
        elif role in ("organizer", "hr"):
            group = roles.ORGANIZER if role == "organizer" else roles.HR
            client.force_login(
                OfficialFactory(user=UserFactory(roles=[roles.OFFICIAL, group])).user
            )
        return client

    return make


def _to_login(response):
    return response.status_code == 302 and "/login/" in response["Location"]


def check(spec, role, response, route=""):
    status = response.status_code
    assert status < 500
    if spec == PUBLIC:
        # Officials are kept out of everything under /admin/, its assets included.
        in_admin = route.startswith("admin/")
        assert status in (200, 301, 302, 304, 404) or (in_admin and status == 403)
    elif spec == SIGNED_IN:
        assert _to_login(response) if role == "anonymous" else not _to_login(response)
    elif spec == BACK_OFFICE:
        if role == "anonymous":
            assert _to_login(response) or status in (401, 403)
        elif role == "official":
            assert status == 403
    elif spec == HR_ONLY:
        if role == "anonymous":
            assert _to_login(response)
        elif role == "official":
            assert status == 403
        elif role == "organizer":
            # In the admin without HR's permissions: Wagtail's refusal, to the dashboard.
            assert status == 302 and response["Location"] == reverse("wagtailadmin_home")
        else:
            assert status in (200, 405)
    elif spec == MARKERS:
        if role == "anonymous":
            assert _to_login(response)
        elif role == "official":
            assert status == 403
        elif role == "hr":
            assert status == 302 and response["Location"] == reverse("wagtailadmin_home")
        else:
            assert status == (404 if "<" in route else 200)
    elif spec == REPORTS:
        if role == "anonymous":
            assert _to_login(response)
        elif role == "official":
            assert status == 403
        else:
            assert status in ((404, 405) if "<" in route else (200,))
    elif spec == NOT_GET:
        assert status in (302, 400, 401, 403, 404, 405)
    elif spec == UPLOAD:
        # Made-up names: nothing under MEDIA_URL but a rendition is ever served.
        assert status == (405 if response.request["REQUEST_METHOD"] == "POST" else 404)
    elif spec == TOKEN:
        # 405 for a method the player never accepts says nothing about the token.
        assert status in (404, 405)
    elif spec == OWNER:
        if role == "anonymous":
            # 401: the attempt page's background requests (save, status) answer JSON
            # that the page acts on, not a redirect to the sign-in page; 405: a
            # method the view never accepts (a GET of submit) says nothing.
            assert (
                _to_login(response)
                or status in (400, 404, 405)
                or (status == 401 and response.json()["signed_out"] is True)
            )
        else:
            assert status in (302, 400, 403, 404, 405) and not _to_login(response)


@pytest.mark.django_db
@pytest.mark.parametrize("role", ROLES)
def test_every_plain_url_answers_each_role_as_its_rule_says(client_for, role):
    client = client_for(role)
    checked = 0
    for route, spec in PLAIN_ROUTES:
        if spec == BACK_OFFICE and role in ("organizer", "hr", "superuser"):
            continue  # Wagtail's own permission checks; our screens are HR_ONLY etc.
        response = client.get("/" + route)
        try:
            check(spec, role, response, route)
        except AssertionError as error:
            raise AssertionError(f"/{route} as {role}: {response.status_code} ({spec})") from error
        checked += 1
    assert checked > 20


CONVERTERS = {
    "int": "999999",
    "id": "999999",
    "str": "no-such-thing",
    "slug": "no-such-thing",
    "path": "x",
}


def _fill(route):
    return re.sub(r"<(?:(\w+):)?\w+>", lambda m: CONVERTERS[m.group(1) or "str"], route)


# Our own routes with parameters, filled with ids and tokens that name nothing, or
# someone else's: nobody may reach an object that is not theirs by changing an id.
PARAM_ROUTES = [
    (route, rule_for(route))
    for route, _ in ROUTES
    if "<" in route and rule_for(route) in (OWNER, TOKEN, NOT_GET, REPORTS, UPLOAD, MARKERS)
]


@pytest.mark.django_db
@pytest.mark.parametrize("role", ROLES)
def test_routes_with_parameters_never_show_what_is_not_yours(client_for, role):
    client = client_for(role)
    assert PARAM_ROUTES
    for route, spec in PARAM_ROUTES:
        url = "/" + _fill(route)
        for response in (client.get(url), client.post(url, {})):
            try:
                check(spec, role, response, route)
            except AssertionError as error:
                raise AssertionError(f"{url} as {role}: {response.status_code} ({spec})") from error


# Uploads, with real files: the exact outcome per role. A document of an open lecture;
# a document and an image of a lecture whose audience (its privacy setting) is a group
# none of the roles is in; a document no lecture uses; and files by their storage
# address, which nobody gets. Refused officials get 403 (the file exists, and they
# had to know its id and name); back-office users have every upload.
SIGN_IN = "sign in"
UPLOAD_OUTCOMES = {
    # role: (open lecture, restricted lecture, used by no lecture, storage address)
    "anonymous": (SIGN_IN, SIGN_IN, SIGN_IN, 404),
    "official": (200, 403, 403, 404),
    "organizer": (200, 200, 200, 404),
    "hr": (200, 200, 200, 404),
    "superuser": (200, 200, 200, 404),
}


@pytest.fixture
def uploads(db, settings, tmp_path):
    import io

    from django.contrib.auth.models import Group
    from django.core.files.base import ContentFile
    from django.core.files.images import ImageFile

    from wagtail.documents import get_document_model
    from wagtail.images import get_image_model
    from wagtail.models import PageViewRestriction

    from PIL import Image as PILImage

    from tests.learning.factories import make_lecture

    # On disk, as in development and on a shared volume (tests keep media in memory).
    settings.STORAGES = {
        **settings.STORAGES,
        "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    }
    settings.MEDIA_ROOT = tmp_path

    def document(name):
        doc = get_document_model()(title=name)
        doc.file.save(name, ContentFile(b"%PDF-1.4 " + name.encode()), save=False)
        doc.save()
        return doc

    buffer = io.BytesIO()
    PILImage.new("RGB", (40, 30), (200, 30, 30)).save(buffer, format="PNG")
    image = get_image_model().objects.create(
        title="挂图", file=ImageFile(io.BytesIO(buffer.getvalue()), name="poster.png")
    )
    open_doc, restricted_doc, unused_doc = (document(n) for n in ("a.pdf", "b.pdf", "c.pdf"))
    make_lecture("公开讲座", body=[("document", {"document": open_doc})])
    restricted = make_lecture(
        "领导干部讲座",
        body=[("document", {"document": restricted_doc}), ("image", {"image": image})],
    )
    restriction = PageViewRestriction.objects.create(
        page=restricted, restriction_type=PageViewRestriction.GROUPS
    )
    restriction.groups.set([Group.objects.create(name="领导干部")])
    return {
        "open": [open_doc.url],
        "restricted": [restricted_doc.url, image.get_rendition("width-360").url],
        "unused": [unused_doc.url],
        "storage": [f"/media/{open_doc.file.name}", f"/media/{image.file.name}"],
    }


@pytest.mark.parametrize("role", ROLES)
def test_uploads_answer_each_role_exactly(client_for, uploads, role):
    client = client_for(role)
    kinds = ("open", "restricted", "unused", "storage")
    for kind, expected in zip(kinds, UPLOAD_OUTCOMES[role], strict=True):
        for url in uploads[kind]:
            response = client.get(url)
            outcome = SIGN_IN if _to_login(response) else response.status_code
            assert outcome == expected, f"{url} ({kind}) as {role}: {response.status_code}"
            if expected == SIGN_IN:
                assert response["Location"] == f"/accounts/login/?next={url}"
