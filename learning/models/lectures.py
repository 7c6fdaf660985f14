"""Lectures as Wagtail pages: the lecture index at /lectures/, series (专题) that
group lectures, and the lectures themselves."""

import re

from django.conf import settings
from django.core.paginator import Paginator
from django.db import models
from django.http.request import split_domain_port
from django.utils import timezone
from django.utils.functional import cached_property
from django.utils.html import strip_tags
from django.utils.translation import gettext_lazy as _

from wagtail.admin.panels import FieldPanel, FieldRowPanel, MultiFieldPanel
from wagtail.fields import RichTextField, StreamField
from wagtail.models import Page, PageManager, PageViewRestriction
from wagtail.query import PageQuerySet
from wagtail.search import index
from wagtail.url_routing import RouteResult

from modelcluster.fields import ParentalManyToManyField

from .. import fast
from ..blocks import LectureBodyBlock
from ..fast.restrictions import any_exist
from ..fast.shells import shell_key, shell_response
from .study import heartbeat_seconds, study_state
from .topics import LawTopic

# Runs of CJK ideographs (and the compatibility block), which search engines do
# not split into words.
_CJK_RUN = re.compile(r"[\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff]+")
_LATIN_WORD = re.compile(r"[0-9A-Za-z]+")


def cjk_ngrams(text):
    """The words a Chinese text is findable by: every single character and every
    pair of adjacent characters of each run of ideographs, plus Latin words.
    Indexing these lets a word-based search engine find 保密 in 保密法."""
    tokens = []
    for run in _CJK_RUN.findall(text):
        tokens.extend(run)
        tokens.extend(run[i : i + 2] for i in range(len(run) - 1))
    tokens.extend(word.lower() for word in _LATIN_WORD.findall(text))
    return " ".join(dict.fromkeys(tokens))


def cjk_query(query):
    """A query matching `cjk_ngrams`: each run of ideographs becomes its adjacent
    pairs (a single character stays itself), all of which must match."""
    tokens = []
    for run in _CJK_RUN.findall(query):
        tokens.extend([run] if len(run) == 1 else [run[i : i + 2] for i in range(len(run) - 1)])
    tokens.extend(word.lower() for word in _LATIN_WORD.findall(query))
    return " ".join(dict.fromkeys(tokens))


class SignedInPageMixin:
    """Study pages are for signed-in users only; anonymous visitors go to sign in."""

    def serve(self, request, *args, **kwargs):
        if not request.user.is_authenticated:
            # Not at the top: auth's views load the user model, defined in this app.
            from django.contrib.auth.views import redirect_to_login

            return redirect_to_login(request.get_full_path())
        return super().serve(request, *args, **kwargs)

    def get_view_restrictions(self):
        """Wagtail's lookup of this page's and its ancestors' restrictions (two
        queries), skipped while no restriction exists anywhere (learning.fast.restrictions)."""
        if not any_exist():
            return PageViewRestriction.objects.none()
        return super().get_view_restrictions()


class LecturePageQuerySet(PageQuerySet):
    def for_topic(self, topic):
        return self.filter(topics=topic)

    def in_year(self, year):
        return self.filter(date__year=year)

    def for_listing(self):
        """Live lectures with what a listing shows, newest first."""
        return (
            self.live()
            .prefetch_related("topics", "speakers")
            .order_by("-date", "-first_published_at", "-pk")
        )


LecturePageManager = PageManager.from_queryset(LecturePageQuerySet)


def _lecture_listing(request, lectures):
    """Filter a lecture queryset by ?topic=<slug> and ?year=<yyyy>, then paginate.
    Unknown filter values are ignored rather than raising errors."""
    topics = list(LawTopic.objects.all())
    topic = next((t for t in topics if t.slug == request.GET.get("topic")), None)
    if topic is not None:
        lectures = lectures.for_topic(topic)
    year = request.GET.get("year", "")
    year = int(year) if year.isdigit() and 1900 < int(year) < 3000 else None
    if year is not None:
        lectures = lectures.in_year(year)
    years = [d.year for d in LecturePage.objects.live().dates("date", "year", order="DESC") if d]
    paginator = Paginator(lectures, settings.XUEFA_LECTURES_PER_PAGE)
    page = paginator.get_page(request.GET.get("page"))
    return {
        "lectures": page,
        "topics": topics,
        "current_topic": topic,
        "years": years,
        "current_year": year,
    }


class LectureIndexPage(SignedInPageMixin, Page):
    """The lecture library at /lectures/: every live lecture, filterable by law topic
    and year, with the series listed above."""

    intro = RichTextField(_("introduction"), blank=True, features=["bold", "link"])

    content_panels = [*Page.content_panels, FieldPanel("intro")]
    parent_page_types = ["content.HomePage"]
    # observations.CasePage (以案释法) is a lecture too; named as a string, not imported.
    subpage_types = ["learning.LectureSeriesPage", "learning.LecturePage", "observations.CasePage"]
    max_count = 1

    class Meta:
        verbose_name = _("lecture index page")

    def route(self, request, path_components):
        """Find a lecture below the index (directly or in a series) with one query,
        instead of a child lookup and a specific-page fetch per level. Anything else,
        including lectures that are not live, takes Wagtail's usual route (and 404)."""
        if path_components:
            lecture = (
                LecturePage.objects.live()
                .filter(
                    path__startswith=self.path,
                    url_path=f"{self.url_path}{'/'.join(path_components)}/",
                )
                .first()
            )
            if lecture is not None:
                return RouteResult(lecture)
        return super().route(request, path_components)

    def get_context(self, request, *args, **kwargs):
        context = super().get_context(request, *args, **kwargs)
        query = request.GET.get("q", "").strip()[:100]
        if query:
            found = search_lectures(query, LecturePage.objects.live().descendant_of(self))
            context["lectures"] = list(found[:50])
            context["query"] = query
            context["years"] = []
            context["topics"] = []
            return context
        lectures = LecturePage.objects.descendant_of(self).for_listing()
        context.update(_lecture_listing(request, lectures))
        context["series"] = LectureSeriesPage.objects.child_of(self).live().order_by("title")
        return context


class LectureSeriesPage(SignedInPageMixin, Page):
    """A series (专题) grouping lectures on one subject, e.g. 民法典专题. Its lectures
    are its children; a study plan may require a whole series."""

    intro = RichTextField(_("introduction"), blank=True, features=["bold", "italic", "link"])
    topic = models.ForeignKey(
        LawTopic,
        verbose_name=_("law topic"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="series",
    )

    content_panels = [*Page.content_panels, FieldPanel("intro"), FieldPanel("topic")]
    parent_page_types = ["learning.LectureIndexPage"]
    # observations.CasePage (以案释法) is a lecture too; named as a string, not imported.
    subpage_types = ["learning.LecturePage", "observations.CasePage"]

    search_fields = [*Page.search_fields, index.SearchField("intro")]

    class Meta:
        verbose_name = _("lecture series")
        verbose_name_plural = _("lecture series")

    def get_context(self, request, *args, **kwargs):
        context = super().get_context(request, *args, **kwargs)
        context.update(_lecture_listing(request, LecturePage.objects.child_of(self).for_listing()))
        return context


class LecturePage(SignedInPageMixin, Page):
    """One lecture: who spoke, where and when, the body (text, law articles, video,
    slides) and how many minutes of study credit it gives. The page sends heartbeats
    while open; credit is measured on the server (learning/credits.py)."""

    date = models.DateField(_("date"), default=timezone.localdate)
    occasion = models.CharField(
        _("occasion"), max_length=100, blank=True, help_text=_("e.g. district executive meeting")
    )
    summary = models.TextField(_("summary"), blank=True)
    topics = ParentalManyToManyField(
        LawTopic, verbose_name=_("law topics"), blank=True, related_name="lectures"
    )
    speakers = ParentalManyToManyField(
        "learning.Speaker", verbose_name=_("speakers"), blank=True, related_name="lectures"
    )
    body = StreamField(LectureBodyBlock(), verbose_name=_("body"), blank=True)
    credit_minutes = models.PositiveSmallIntegerField(
        _("credit minutes"),
        default=30,
        help_text=_("Study time at which the lecture counts as completed."),
    )
    video_minutes = models.PositiveSmallIntegerField(
        _("video minutes"),
        null=True,
        blank=True,
        help_text=_(
            "Length of the lecture video. When the video ends and at least this much "
            "time has been studied, the lecture counts as completed."
        ),
    )
    search_text = models.TextField(editable=False, blank=True)

    objects = LecturePageManager()

    content_panels = [
        *Page.content_panels,
        MultiFieldPanel(
            [
                FieldRowPanel([FieldPanel("date"), FieldPanel("occasion")]),
                FieldPanel("speakers"),
                FieldPanel("topics"),
                FieldRowPanel([FieldPanel("credit_minutes"), FieldPanel("video_minutes")]),
            ],
            heading=_("About the lecture"),
        ),
        FieldPanel("summary"),
        FieldPanel("body"),
    ]
    parent_page_types = ["learning.LectureIndexPage", "learning.LectureSeriesPage"]
    subpage_types = []

    search_fields = [
        *Page.search_fields,
        index.SearchField("summary"),
        index.SearchField("body"),
        index.SearchField("search_text"),
        index.FilterField("date"),
        index.RelatedFields("topics", [index.SearchField("name")]),
    ]

    class Meta:
        verbose_name = _("lecture")
        verbose_name_plural = _("lectures")

    @property
    def credit_seconds(self):
        return self.credit_minutes * 60

    def get_search_text(self):
        """Title, summary, occasion and body as character n-grams (see cjk_ngrams)."""
        parts = [self.title, self.summary, self.occasion]
        parts.extend(self.body.stream_block.get_searchable_content(self.body))
        return cjk_ngrams(" ".join(strip_tags(str(p)) for p in parts if p))

    def full_clean(self, *args, **kwargs):
        self.search_text = self.get_search_text()
        return super().full_clean(*args, **kwargs)

    def save(self, *args, **kwargs):
        self.search_text = self.get_search_text()
        result = super().save(*args, **kwargs)
        # Again after the topics and speakers (committed after post_save) are written.
        fast.bump("pages")
        return result

    @cached_property
    def speaker_list(self):
        return list(self.speakers.all())

    def study_state(self, user):
        """(official_id, record) of the user here (see models.study.study_state), taken
        from the lecture's route when it was found with it (learning.fast.routing)."""
        found = getattr(self, "_study_state", None)
        if found is not None and found[0] == user.pk:
            return found[1]
        return study_state(user, self)

    def get_context(self, request, *args, **kwargs):
        context = super().get_context(request, *args, **kwargs)
        official_id, record = self.study_state(request.user)
        context["studying"] = official_id is not None
        context["official_id"] = official_id
        context["record"] = record
        context["heartbeat_seconds"] = heartbeat_seconds()
        return context

    def serve(self, request, *args, **kwargs):
        if (
            fast.enabled()
            and request.method in ("GET", "HEAD")
            and request.user.is_authenticated
            and not getattr(request, "is_preview", False)
        ):
            response = self.serve_shell(request)
            if response is not None:
                return response
        return super().serve(request, *args, **kwargs)

    def serve_shell(self, request):
        """The page from its shell (learning/fast/shells.py): rendered once per live
        revision, language and whether the reader studies here; only the reader's
        progress, the CSRF token, messages and the back-office link per request."""
        request.is_preview = False
        state = self.study_state(request.user)
        studying = state[0] is not None

        def shell_context():
            page = self
            if self.get_deferred_fields():
                page = LecturePage.objects.get(pk=self.pk)
                page._study_state = (request.user.pk, state)
            context = page.get_context(request)
            context["record"] = None  # the reader's own: filled in per request
            context["official_id"] = None
            return context

        return shell_response(
            request,
            key=self.shell_keys(request)[studying],
            version=(self.pk, self.live_revision_id),
            template_name=self.get_template(request),
            context={
                "page": self,
                "self": self,
                "studying": studying,
                "official_id": state[0],
                "record": state[1],
            },
            shell_context=shell_context,
        )

    @staticmethod
    def shell_keys(request):
        """{studying: cache key} of the shells the lecture at this request's address
        is served from (PageRouteMiddleware reads them ahead with the route)."""
        keys = getattr(request, "_lecture_shell_keys", None)
        if keys is None:
            host = split_domain_port(request._get_raw_host())[0]
            path = "/".join(part for part in request.path_info.split("/") if part)
            name = f"lecture:{host}:{request.get_port()}:{path}:heartbeat-{heartbeat_seconds()}"
            keys = {True: shell_key(f"{name}:studying"), False: shell_key(f"{name}:reading")}
            request._lecture_shell_keys = keys
        return keys


def search_lectures(query, lectures=None):
    """Live lectures matching a Chinese (or mixed) query, best match first. The query
    is turned into the same character n-grams the lectures are indexed by, so 保密
    finds 保密法 and 民法 finds 民法典 on every search backend."""
    terms = cjk_query(query)
    if not terms:
        return LecturePage.objects.none()
    if lectures is None:
        lectures = LecturePage.objects.live()
    return lectures.search(terms, operator="and")
