"""明白纸 pages and their read receipts. A sheet lives under the briefing index
(/briefings/), is for an audience (everyone, leaders, chosen departments, as a study
plan is) between two dates, and asks two or three check questions that are answered
with the receipt: not an exam, a wrong answer is shown the right one."""

from django.core.exceptions import ValidationError
from django.db import models
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from wagtail.admin.panels import FieldPanel, FieldRowPanel, InlinePanel, MultiFieldPanel
from wagtail.fields import RichTextField
from wagtail.models import Orderable, Page, PageManager
from wagtail.query import PageQuerySet

from modelcluster.fields import ParentalKey, ParentalManyToManyField

from ..models import Department, LawTopic, Official
from ..models.lectures import SignedInPageMixin
from ..models.study import Audience

OPTION_LETTERS = ("A", "B", "C", "D")


def department_prefixes(path, steplen=None):
    """The paths of a department and of every department above it."""
    steplen = steplen or Department.steplen
    return [path[:end] for end in range(steplen, len(path) + 1, steplen)]


class BriefingSheetQuerySet(PageQuerySet):
    def valid_on(self, day):
        """Sheets whose validity dates include `day` (an open end is unlimited)."""
        return self.filter(Q(valid_to__isnull=True) | Q(valid_to__gte=day), valid_from__lte=day)

    def for_official(self, official):
        """Sheets whose audience includes the official (as their profile is now)."""
        condition = Q(audience=Audience.ALL) | Q(
            audience=Audience.DEPARTMENTS,
            departments__path__in=department_prefixes(official.department.path),
        )
        if official.is_leader:
            condition |= Q(audience=Audience.LEADERS)
        return self.filter(pk__in=self.filter(condition).values("pk"))

    def in_year(self, year):
        """Sheets issued in `year`: their validity starts in it."""
        return self.filter(valid_from__year=year)

    def open_to(self, official, day=None):
        """Live sheets for the official, valid on `day` (today)."""
        day = day or timezone.localdate()
        return self.live().valid_on(day).for_official(official)


BriefingSheetManager = PageManager.from_queryset(BriefingSheetQuerySet)


class BriefingIndexPage(SignedInPageMixin, Page):
    """/briefings/: the signed-in official's open 明白纸, unread first."""

    intro = RichTextField(_("introduction"), blank=True, features=["bold", "link"])

    content_panels = [*Page.content_panels, FieldPanel("intro")]
    parent_page_types = ["content.HomePage"]
    subpage_types = ["briefings.BriefingSheetPage"]
    max_count = 1

    class Meta:
        verbose_name = _("briefing sheet index page")

    def get_context(self, request, *args, **kwargs):
        context = super().get_context(request, *args, **kwargs)
        official = getattr(request.user, "official", None)
        sheets, confirmed = [], set()
        if official is not None:
            sheets = list(BriefingSheetPage.objects.open_to(official).order_by("-valid_from"))
            confirmed = set(
                BriefingReceipt.objects.filter(official=official, sheet__in=sheets).values_list(
                    "sheet_id", flat=True
                )
            )
        context["sheets"] = [(sheet, sheet.pk in confirmed) for sheet in sheets]
        return context


class BriefingSheetPage(SignedInPageMixin, Page):
    """One 明白纸: the key points (one per line, also shown on the lobby screens),
    a screen of rich text, its audience and validity, and its check questions.
    Officials confirm they have read it (learning.briefings.receipts)."""

    topic = models.ForeignKey(
        LawTopic,
        verbose_name=_("law topic"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="briefing_sheets",
    )
    points = models.TextField(
        _("key points"),
        help_text=_("One short point per line, at most six; the screens show them too."),
    )
    body = RichTextField(
        _("text"),
        blank=True,
        features=["bold", "italic", "ol", "ul", "link", "image"],
        help_text=_("One screen of plain language: what the rules mean for daily work."),
    )
    audience = models.CharField(
        _("audience"), max_length=16, choices=Audience.choices, default=Audience.ALL
    )
    departments = ParentalManyToManyField(
        Department,
        verbose_name=_("departments"),
        blank=True,
        related_name="briefing_sheets",
        help_text=_("Only for the audience 'chosen departments'; includes sub-departments."),
    )
    valid_from = models.DateField(_("valid from"), default=timezone.localdate)
    valid_to = models.DateField(_("valid to"), null=True, blank=True)
    # Set when the audience was told of the sheet (its first publication), so that
    # republishing a correction does not notify everyone again.
    notified_at = models.DateTimeField(_("audience notified at"), null=True, editable=False)

    objects = BriefingSheetManager()

    content_panels = [
        *Page.content_panels,
        FieldPanel("topic"),
        FieldPanel("points"),
        FieldPanel("body"),
        MultiFieldPanel(
            [
                FieldPanel("audience"),
                FieldPanel("departments"),
                FieldRowPanel([FieldPanel("valid_from"), FieldPanel("valid_to")]),
            ],
            heading=_("Audience and validity"),
        ),
        InlinePanel("questions", label=_("Check questions"), min_num=2, max_num=3),
    ]
    parent_page_types = ["briefings.BriefingIndexPage"]
    subpage_types = []

    MAX_POINTS = 6

    class Meta:
        verbose_name = _("briefing sheet (明白纸)")
        verbose_name_plural = _("briefing sheets (明白纸)")

    @property
    def point_list(self):
        return [line.strip() for line in self.points.splitlines() if line.strip()]

    def with_content_json(self, content):
        """A revision carries the sheet's fields as they were when it was saved; when
        the audience was told is the live sheet's fact, never a revision's."""
        page = super().with_content_json(content)
        page.notified_at = (
            BriefingSheetPage.objects.filter(pk=self.pk)
            .values_list("notified_at", flat=True)
            .first()
        )
        return page

    def is_valid_on(self, day):
        return self.valid_from <= day and (self.valid_to is None or day <= self.valid_to)

    def is_for(self, official):
        """Whether the sheet's audience includes the official."""
        if self.audience == Audience.ALL:
            return True
        if self.audience == Audience.LEADERS:
            return official.is_leader
        prefixes = set(department_prefixes(official.department.path))
        return any(d.path in prefixes for d in self.departments.all())

    def clean(self):
        super().clean()
        errors = {}
        if not self.point_list:
            errors["points"] = _("A briefing sheet needs at least one point.")
        elif len(self.point_list) > self.MAX_POINTS:
            errors["points"] = _("A briefing sheet holds at most six points.")
        if self.valid_to and self.valid_from and self.valid_to < self.valid_from:
            errors["valid_to"] = _("The end date must not be before the start date.")
        if errors:
            raise ValidationError(errors)

    def get_context(self, request, *args, **kwargs):
        context = super().get_context(request, *args, **kwargs)
        official = getattr(request.user, "official", None)
        receipt = None
        if official is not None:
            receipt = BriefingReceipt.objects.filter(sheet=self, official=official).first()
        context.update(sheet_context(self, official, receipt))
        return context


def sheet_context(sheet, official, receipt, today=None):
    """What the sheet's page shows its reader: the questions (with the reader's
    answers and the right ones once confirmed), whether they may confirm, and the
    next sheet still waiting for them."""
    today = today or timezone.localdate()
    questions = list(sheet.questions.all())
    answers = receipt.answers if receipt else {}
    may_confirm = bool(
        official is not None
        and receipt is None
        and sheet.live
        and sheet.is_valid_on(today)
        and sheet.is_for(official)
    )
    next_sheet = None
    if official is not None and receipt is not None:
        next_sheet = (
            BriefingSheetPage.objects.open_to(official, today)
            .exclude(receipts__official=official)
            .exclude(pk=sheet.pk)
            .order_by("valid_from", "pk")
            .first()
        )
    return {
        "questions": [(q, answers.get(str(q.pk), "")) for q in questions],
        "receipt": receipt,
        "may_confirm": may_confirm,
        "is_audience": official is not None and sheet.is_for(official),
        "next_sheet": next_sheet,
    }


class BriefingQuestion(Orderable):
    """A check question of a sheet: two to four options, one of them right, and a
    line saying why, shown to the official after they confirm."""

    page = ParentalKey(BriefingSheetPage, on_delete=models.CASCADE, related_name="questions")
    stem = models.TextField(_("question"))
    option_a = models.CharField(_("option A"), max_length=200)
    option_b = models.CharField(_("option B"), max_length=200)
    option_c = models.CharField(_("option C"), max_length=200, blank=True)
    option_d = models.CharField(_("option D"), max_length=200, blank=True)
    correct = models.CharField(
        _("right option"), max_length=1, choices=[(letter, letter) for letter in OPTION_LETTERS]
    )
    explanation = models.TextField(_("explanation"), blank=True)

    panels = [
        FieldPanel("stem"),
        FieldRowPanel([FieldPanel("option_a"), FieldPanel("option_b")]),
        FieldRowPanel([FieldPanel("option_c"), FieldPanel("option_d")]),
        FieldPanel("correct"),
        FieldPanel("explanation"),
    ]

    class Meta(Orderable.Meta):
        verbose_name = _("check question")
        verbose_name_plural = _("check questions")

    def __str__(self):
        return self.stem[:50]

    @property
    def options(self):
        """[(letter, text)] of the options that are filled in."""
        texts = (self.option_a, self.option_b, self.option_c, self.option_d)
        return [(letter, text) for letter, text in zip(OPTION_LETTERS, texts, strict=True) if text]

    @property
    def correct_text(self):
        return dict(self.options).get(self.correct, "")

    def clean(self):
        super().clean()
        if self.correct and self.correct not in dict(self.options):
            raise ValidationError({"correct": _("The right option must be one that is filled in.")})
        if self.option_d and not self.option_c:
            raise ValidationError({"option_c": _("Fill in option C before option D.")})


class BriefingReceipt(models.Model):
    """An official's confirmation that they read a sheet (已读), with their answers
    to its check questions and where the confirmation came from, for the audit."""

    wagtail_reference_index_ignore = True

    sheet = models.ForeignKey(
        BriefingSheetPage,
        on_delete=models.CASCADE,
        related_name="receipts",
        verbose_name=_("briefing sheet"),
    )
    official = models.ForeignKey(
        Official,
        on_delete=models.CASCADE,
        related_name="briefing_receipts",
        verbose_name=_("official"),
    )
    confirmed_at = models.DateTimeField(_("confirmed at"), default=timezone.now)
    answers = models.JSONField(_("answers"), default=dict, blank=True)
    correct = models.PositiveSmallIntegerField(_("right answers"), default=0)
    client_ip = models.GenericIPAddressField(_("client address"), null=True, blank=True)
    user_agent = models.CharField(_("browser"), max_length=300, blank=True)

    class Meta:
        verbose_name = _("briefing receipt")
        verbose_name_plural = _("briefing receipts")
        ordering = ["-confirmed_at", "-pk"]
        constraints = [
            models.UniqueConstraint(fields=["sheet", "official"], name="one_receipt_per_official")
        ]

    def __str__(self):
        return f"{self.sheet_id} · {self.official_id}"
