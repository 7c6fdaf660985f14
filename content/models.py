"""Site pages and publicity content."""

import secrets
from datetime import datetime, time, timedelta

from django.conf import settings
from django.contrib.contenttypes.fields import GenericRelation
from django.core.exceptions import ValidationError
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.db.models import Q
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from wagtail.admin.panels import FieldPanel, FieldRowPanel, InlinePanel, PublishingPanel
from wagtail.fields import RichTextField
from wagtail.models import (
    DraftStateMixin,
    LockableMixin,
    Orderable,
    Page,
    RevisionMixin,
    WorkflowMixin,
)

from modelcluster.fields import ParentalKey
from modelcluster.models import ClusterableModel

from .fields import WeekdaysField
from .home import dashboard


class HomePage(Page):
    """The root of the site. Signed-in officials see their dashboard here, so the
    page only carries an optional notice shown above the panels."""

    notice = RichTextField(_("notice"), blank=True, features=["bold", "link"])

    content_panels = [*Page.content_panels, FieldPanel("notice")]
    parent_page_types = ["wagtailcore.Page"]
    max_count = 1

    class Meta:
        verbose_name = _("home page")

    def serve(self, request, *args, **kwargs):
        return dashboard(request, notice=self.notice)


# --- Publicity screens (电子屏) ---------------------------------------------------------------


def new_screen_token():
    """A URL-safe secret that is the screen's only credential."""
    return secrets.token_urlsafe(32)


class PublicityItemQuerySet(models.QuerySet):
    def valid_on(self, day):
        """Items whose validity dates include `day` (open ends are unlimited)."""
        return self.filter(
            Q(valid_from__isnull=True) | Q(valid_from__lte=day),
            Q(valid_to__isnull=True) | Q(valid_to__gte=day),
        )


class PublicityItem(WorkflowMixin, DraftStateMixin, LockableMixin, RevisionMixin, models.Model):
    """One thing a screen shows: a poster (法治宣传挂图), a video, a text card (明白纸)
    or a quotation of a law article. Only the published version is ever played, and
    only between its valid-from and valid-to dates."""

    class Kind(models.TextChoices):
        POSTER = "poster", _("Poster")
        VIDEO = "video", _("Video")
        TEXT_CARD = "text_card", _("Text card")
        QUOTATION = "quotation", _("Law article quotation")
        LECTURE = "lecture", _("Lecture highlight")
        DATA_SCREEN = "data_screen", _("Data screen")
        BRIEFING = "briefing", _("Briefing sheet (明白纸)")

    MAX_POINTS = 6

    title = models.CharField(_("title"), max_length=120)
    kind = models.CharField(_("kind"), max_length=16, choices=Kind.choices, default=Kind.POSTER)
    image = models.ForeignKey(
        "wagtailimages.Image",
        verbose_name=_("poster image"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )
    video = models.ForeignKey(
        "wagtaildocs.Document",
        verbose_name=_("video file"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
        help_text=_("An MP4 file uploaded to the documents library."),
    )
    headline = models.CharField(
        _("headline"),
        max_length=60,
        blank=True,
        help_text=_("Text cards: the large heading. Quotations: the law's name."),
    )
    points = models.TextField(
        _("points"),
        blank=True,
        help_text=_("Text cards: one short point per line, at most six."),
    )
    quote = models.TextField(_("quoted article"), blank=True)
    citation = models.CharField(
        _("citation"),
        max_length=120,
        blank=True,
        help_text=_("Where the quotation comes from, e.g. the law and article number."),
    )
    lecture = models.ForeignKey(
        "learning.LecturePage",
        verbose_name=_("lecture"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
        help_text=_(
            "Lecture highlights: the lecture shown with its speakers, date, summary and a "
            "QR code. Left out of the playlist while the lecture is not published."
        ),
    )
    briefing = models.ForeignKey(
        "briefings.BriefingSheetPage",
        verbose_name=_("briefing sheet"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
        help_text=_(
            "Briefing sheets: its title, key points and a QR code to read and confirm it. "
            "Left out of the playlist while the sheet is not published or not in force."
        ),
    )
    duration = models.PositiveSmallIntegerField(
        _("default duration (seconds)"),
        null=True,
        blank=True,
        validators=[MinValueValidator(3), MaxValueValidator(3600)],
        help_text=_("Empty: 15 seconds, or a video's own length."),
    )
    valid_from = models.DateField(_("valid from"), null=True, blank=True)
    valid_to = models.DateField(_("valid to"), null=True, blank=True)
    updated_at = models.DateTimeField(_("updated"), auto_now=True)

    _revisions = GenericRelation("wagtailcore.Revision", related_query_name="publicity_item")
    workflow_states = GenericRelation(
        "wagtailcore.WorkflowState",
        content_type_field="base_content_type",
        object_id_field="object_id",
        related_query_name="publicity_item",
        for_concrete_model=False,
    )

    objects = PublicityItemQuerySet.as_manager()

    panels = [
        FieldPanel("title"),
        FieldPanel("kind"),
        FieldPanel("image"),
        FieldPanel("video"),
        FieldPanel("headline"),
        FieldPanel("points"),
        FieldPanel("quote"),
        FieldPanel("citation"),
        FieldPanel("lecture"),
        FieldPanel("briefing"),
        FieldPanel("duration"),
        FieldRowPanel([FieldPanel("valid_from"), FieldPanel("valid_to")], heading=_("Validity")),
        PublishingPanel(),
    ]

    class Meta:
        verbose_name = _("publicity item")
        verbose_name_plural = _("publicity items")
        ordering = ["title"]

    def __str__(self):
        return self.title

    @property
    def revisions(self):
        return self._revisions

    @property
    def point_list(self):
        return [line.strip() for line in self.points.splitlines() if line.strip()]

    def clean(self):
        super().clean()
        errors = {}
        if self.kind == self.Kind.POSTER and not self.image_id:
            errors["image"] = _("A poster needs an image.")
        if self.kind == self.Kind.VIDEO and not self.video_id:
            errors["video"] = _("A video item needs a video file.")
        if self.kind == self.Kind.VIDEO and self.video_id:
            name = (self.video.file.name if self.video else "").lower()
            if not name.endswith((".mp4", ".webm")):
                errors["video"] = _("The video must be an MP4 or WebM file.")
        if self.kind == self.Kind.TEXT_CARD:
            if not self.headline:
                errors["headline"] = _("A text card needs a headline.")
            if not self.point_list:
                errors["points"] = _("A text card needs at least one point.")
            elif len(self.point_list) > self.MAX_POINTS:
                errors["points"] = _("A text card holds at most six points.")
        if self.kind == self.Kind.QUOTATION:
            if not self.quote:
                errors["quote"] = _("A quotation needs the quoted text.")
            if not self.citation:
                errors["citation"] = _("A quotation needs its citation.")
        if self.kind == self.Kind.LECTURE and not self.lecture_id:
            errors["lecture"] = _("A lecture highlight needs a lecture.")
        if self.kind == self.Kind.BRIEFING and not self.briefing_id:
            errors["briefing"] = _("A briefing card needs a briefing sheet.")
        if self.valid_from and self.valid_to and self.valid_to < self.valid_from:
            errors["valid_to"] = _("The end date must not be before the start date.")
        if errors:
            raise ValidationError(errors)


class ScheduleWindow(models.Model):
    """Optional days of the week and time of day, shared by playlist entries and
    screen assignments. Empty days mean every day; empty times mean all day; a
    window whose end is before its start runs past midnight."""

    days = WeekdaysField(_("days of the week"), help_text=_("None ticked: every day."))
    starts_at = models.TimeField(_("from"), null=True, blank=True)
    ends_at = models.TimeField(_("until"), null=True, blank=True)

    window_panels = [
        FieldPanel("days"),
        FieldRowPanel([FieldPanel("starts_at"), FieldPanel("ends_at")]),
    ]

    class Meta:
        abstract = True

    def clean(self):
        super().clean()
        if self.starts_at and self.ends_at and self.starts_at == self.ends_at:
            raise ValidationError({"ends_at": _("The window must not start and end together.")})


class Playlist(ClusterableModel):
    """Items played in order. The default playlist plays on any screen at any time
    nothing else is scheduled (Xibo's default layout)."""

    name = models.CharField(_("name"), max_length=80, unique=True)
    is_default = models.BooleanField(
        _("default playlist"),
        default=False,
        help_text=_("Played on every screen whenever nothing else is scheduled."),
    )
    ticker = models.TextField(
        _("ticker"),
        blank=True,
        help_text=_(
            "Short texts that scroll along the bottom of the screen while this playlist "
            "plays, one per line."
        ),
    )
    updated_at = models.DateTimeField(_("updated"), auto_now=True)

    panels = [
        FieldPanel("name"),
        FieldPanel("is_default"),
        FieldPanel("ticker"),
        InlinePanel("entries", heading=_("Items"), label=_("Item")),
    ]

    MAX_TICKER_LINES = 10
    MAX_TICKER_LINE = 200

    class Meta:
        verbose_name = _("playlist")
        verbose_name_plural = _("playlists")
        ordering = ["name"]
        constraints = [
            models.UniqueConstraint(
                fields=["is_default"],
                condition=Q(is_default=True),
                name="content_single_default_playlist",
            )
        ]

    def __str__(self):
        return self.name

    @property
    def ticker_lines(self):
        """The ticker's texts, blank lines left out."""
        return [line.strip() for line in self.ticker.splitlines() if line.strip()]

    def clean(self):
        super().clean()
        lines = self.ticker_lines
        if len(lines) > self.MAX_TICKER_LINES:
            raise ValidationError({"ticker": _("The ticker holds at most ten texts.")})
        if any(len(line) > self.MAX_TICKER_LINE for line in lines):
            raise ValidationError({"ticker": _("Each ticker text has at most 200 characters.")})
        if (
            self.is_default
            and Playlist.objects.filter(is_default=True).exclude(pk=self.pk).exists()
        ):
            raise ValidationError({"is_default": _("Another playlist is already the default.")})


class PlaylistEntry(Orderable, ScheduleWindow):
    """An item's place in a playlist, with its own duration and time window."""

    playlist = ParentalKey(Playlist, on_delete=models.CASCADE, related_name="entries")
    item = models.ForeignKey(
        PublicityItem,
        verbose_name=_("publicity item"),
        on_delete=models.CASCADE,
        related_name="playlist_entries",
    )
    duration = models.PositiveSmallIntegerField(
        _("duration (seconds)"),
        null=True,
        blank=True,
        validators=[MinValueValidator(3), MaxValueValidator(3600)],
        help_text=_("Empty: the item's default duration."),
    )

    panels = [FieldPanel("item"), FieldPanel("duration"), *ScheduleWindow.window_panels]

    class Meta(Orderable.Meta):
        verbose_name = _("playlist item")
        verbose_name_plural = _("playlist items")

    def __str__(self):
        return f"{self.playlist} · {self.item}"


class ScreenQuerySet(models.QuerySet):
    def offline(self, now=None):
        """Screens not seen within XUEFA_SCREEN_OFFLINE_AFTER seconds (or never)."""
        cutoff = (now or timezone.now()) - timedelta(seconds=settings.XUEFA_SCREEN_OFFLINE_AFTER)
        return self.filter(Q(last_seen_at__isnull=True) | Q(last_seen_at__lt=cutoff))


class Screen(ClusterableModel):
    """A display in a lobby or canteen. It is not a user: its secret token in the
    player URL is its only credential, so rotating the token revokes the old URL."""

    class Orientation(models.TextChoices):
        LANDSCAPE = "landscape", _("Landscape (1920×1080)")
        PORTRAIT = "portrait", _("Portrait (1080×1920)")

    name = models.CharField(_("name"), max_length=80)
    location = models.CharField(_("location"), max_length=120, blank=True)
    orientation = models.CharField(
        _("orientation"),
        max_length=16,
        choices=Orientation.choices,
        default=Orientation.LANDSCAPE,
    )
    token = models.CharField(
        _("secret token"), max_length=64, unique=True, default=new_screen_token, editable=False
    )
    token_rotated_at = models.DateTimeField(_("token issued"), default=timezone.now, editable=False)
    last_seen_at = models.DateTimeField(_("last seen"), null=True, blank=True, editable=False)
    last_item = models.ForeignKey(
        PublicityItem,
        verbose_name=_("last reported item"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
        editable=False,
    )
    last_item_at = models.DateTimeField(
        _("last reported at"), null=True, blank=True, editable=False
    )
    # The items its playlists held at its last play report, each with its longest slot
    # and, once a report found it gone, when: {"<item id>": [left at or null, seconds]}.
    # Plays of an item that left are accepted for a while (content/plays.py).
    held_items = models.JSONField(_("items lately in its playlists"), default=dict, editable=False)
    offline_alert_minutes = models.PositiveSmallIntegerField(
        _("offline alert after (minutes)"),
        null=True,
        blank=True,
        validators=[MinValueValidator(5), MaxValueValidator(7 * 24 * 60)],
        help_text=_(
            "Organizers are notified once when the screen has not been seen for this long. "
            "Empty: the site's default (XUEFA_SCREEN_OFFLINE_ALERT_MINUTES)."
        ),
    )
    # When organizers were last told the screen is offline: an outage is alerted once,
    # and a poll after this time starts a new one (content/offline.py).
    offline_alerted_at = models.DateTimeField(
        _("offline alert sent"), null=True, blank=True, editable=False
    )

    objects = ScreenQuerySet.as_manager()

    panels = [
        FieldPanel("name"),
        FieldPanel("location"),
        FieldPanel("orientation"),
        FieldPanel("offline_alert_minutes"),
        InlinePanel("playlist_assignments", heading=_("Playlists"), label=_("Playlist")),
    ]

    class Meta:
        verbose_name = _("screen")
        verbose_name_plural = _("screens")
        ordering = ["name"]

    def __str__(self):
        return self.name

    def get_player_url(self):
        return reverse("content:screen_player", kwargs={"token": self.token})

    def rotate_token(self):
        """Issue a new secret; the old player URL answers 404 from now on."""
        self.token = new_screen_token()
        self.token_rotated_at = timezone.now()
        self.save(update_fields=["token", "token_rotated_at"])

    def is_offline(self, now=None):
        if self.last_seen_at is None:
            return True
        now = now or timezone.now()
        return now - self.last_seen_at > timedelta(seconds=settings.XUEFA_SCREEN_OFFLINE_AFTER)


class ScreenPlaylist(Orderable, ScheduleWindow):
    """A playlist assigned to a screen. When several assignments are active, the
    highest priority wins; ties go to the one listed first."""

    screen = ParentalKey(Screen, on_delete=models.CASCADE, related_name="playlist_assignments")
    playlist = models.ForeignKey(
        Playlist,
        verbose_name=_("playlist"),
        on_delete=models.CASCADE,
        related_name="screen_assignments",
    )
    priority = models.SmallIntegerField(
        _("priority"), default=0, help_text=_("Higher numbers win when schedules overlap.")
    )

    panels = [FieldPanel("playlist"), FieldPanel("priority"), *ScheduleWindow.window_panels]

    class Meta(Orderable.Meta):
        verbose_name = _("screen playlist")
        verbose_name_plural = _("screen playlists")

    def __str__(self):
        return f"{self.screen} · {self.playlist}"


class PlayLogQuerySet(models.QuerySet):
    def between(self, start, end):
        """Plays started on the local dates `start` to `end`, both included."""
        tz = timezone.get_current_timezone()
        lower = datetime.combine(start, time.min, tzinfo=tz)
        upper = datetime.combine(end + timedelta(days=1), time.min, tzinfo=tz)
        return self.filter(started_at__gte=lower, started_at__lt=upper)

    def counts_by_item(self):
        """Per item: title, number of plays and seconds scheduled, most played first."""
        return (
            self.values("item_id", "item__title", "item__kind")
            .annotate(plays=models.Count("pk"), seconds=models.Sum("duration"))
            .order_by("-plays", "item__title")
        )


class PlayLog(models.Model):
    """One play of an item on a screen, as the player reported it. The player makes
    an id for each play, so a batch sent twice (a lost answer, a reload) counts once.
    Kept for XUEFA_SCREEN_PLAY_LOG_DAYS, then purged by the housekeeping task."""

    # Records, not content: Wagtail's usage report need not index them.
    wagtail_reference_index_ignore = True

    MAX_ID_LENGTH = 64

    screen = models.ForeignKey(
        Screen, verbose_name=_("screen"), on_delete=models.CASCADE, related_name="plays"
    )
    item = models.ForeignKey(
        PublicityItem,
        verbose_name=_("publicity item"),
        on_delete=models.CASCADE,
        related_name="plays",
    )
    play_id = models.CharField(_("play id"), max_length=MAX_ID_LENGTH)
    started_at = models.DateTimeField(_("started"))
    duration = models.PositiveIntegerField(_("duration (seconds)"), null=True, blank=True)
    reported_at = models.DateTimeField(_("reported"), default=timezone.now)

    objects = PlayLogQuerySet.as_manager()

    class Meta:
        verbose_name = _("play")
        verbose_name_plural = _("plays")
        ordering = ["-started_at"]
        constraints = [
            models.UniqueConstraint(fields=["screen", "play_id"], name="content_play_once")
        ]
        indexes = [
            models.Index(fields=["screen", "-started_at"], name="content_play_screen_idx"),
            models.Index(fields=["item", "started_at"], name="content_play_item_idx"),
            models.Index(fields=["started_at"], name="content_play_started_idx"),
        ]

    def __str__(self):
        return f"{self.screen_id} · {self.item_id} · {self.started_at:%Y-%m-%d %H:%M}"


class ScreenNoticeQuerySet(models.QuerySet):
    def current(self, now=None):
        """Notices showing at `now`: started, not past their end, not ended early."""
        now = now or timezone.now()
        return self.filter(starts_at__lte=now, ends_at__gt=now, ended_at__isnull=True)

    def not_over(self, now=None):
        """Notices showing now or later."""
        return self.filter(ends_at__gt=now or timezone.now(), ended_at__isnull=True)


class ScreenNotice(models.Model):
    """An urgent notice (紧急通知) that takes over all screens or chosen ones from its
    start to its end, over whatever they play. Ended early by setting `ended_at`, never
    deleted: with Wagtail's log (content/urgent.py) it is the audit trail."""

    title = models.CharField(_("title"), max_length=60, blank=True)
    text = models.TextField(_("text"), max_length=400)
    all_screens = models.BooleanField(_("all screens"), default=True)
    screens = models.ManyToManyField(
        Screen, verbose_name=_("screens"), blank=True, related_name="notices"
    )
    starts_at = models.DateTimeField(_("starts"), default=timezone.now)
    ends_at = models.DateTimeField(_("ends"))
    ended_at = models.DateTimeField(_("ended early"), null=True, blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("created by"),
        null=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    ended_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("ended by"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )

    objects = ScreenNoticeQuerySet.as_manager()

    class Meta:
        verbose_name = _("urgent notice")
        verbose_name_plural = _("urgent notices")
        ordering = ["-starts_at", "-pk"]
        indexes = [models.Index(fields=["ends_at"], name="content_notice_ends_idx")]

    def __str__(self):
        return self.title or self.text[:30]

    @property
    def finishes_at(self):
        """When it stops showing: its end, or when it was ended early."""
        return min(self.ends_at, self.ended_at) if self.ended_at else self.ends_at

    def is_current(self, now=None):
        now = now or timezone.now()
        return self.starts_at <= now < self.finishes_at
