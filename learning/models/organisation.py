"""People and the organisation they belong to: accounts, the department tree and
each official's profile as HR's roster describes it."""

import datetime

from django.contrib.auth import models as auth_models
from django.contrib.auth.models import AbstractUser
from django.core.validators import RegexValidator
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from treebeard.mp_tree import MP_Node, MP_NodeManager, MP_NodeQuerySet

from ..personal_data import DigestField, DigestQuerySet, EncryptedCharField, with_digests


class UserManager(auth_models.UserManager):
    """Django's. A class of its own because migration 0007 names it (it once read
    users by primary key in plain SQL; that shortcut lives in learning.fast.auth)."""


class User(AbstractUser):
    """An account. Chinese names are not split into first and last names, so the
    display name lives in `name`. `must_change_password` is set whenever someone
    other than the user chose the password (roster import, an administrator)."""

    name = models.CharField(_("name"), max_length=64, blank=True)
    must_change_password = models.BooleanField(
        _("must change password"),
        default=False,
        help_text=_("The user is asked to choose a new password at the next sign-in."),
    )

    objects = UserManager()

    class Meta(AbstractUser.Meta):
        verbose_name = _("user")
        verbose_name_plural = _("users")

    def get_full_name(self):
        return self.full_name(self.name, self.first_name, self.last_name, self.username)

    @staticmethod
    def full_name(name, first_name, last_name, username):
        """The display name from these fields, for lists that read them without
        loading users (the completion report of a whole organisation)."""
        return name or f"{first_name} {last_name}".strip() or username

    def get_short_name(self):
        return self.name or self.username

    def __str__(self):
        return self.name or self.username


class DepartmentQuerySet(MP_NodeQuerySet):
    def subtree(self, department):
        """The department and everything below it."""
        return self.filter(path__startswith=department.path)


class DepartmentManager(MP_NodeManager):
    def get_queryset(self):
        return DepartmentQuerySet(self.model, using=self._db).order_by("path")

    def subtree(self, department):
        return self.get_queryset().subtree(department)


class Department(MP_Node):
    """A unit in the organisation: district government > bureaus > offices.
    A materialised path keeps subtree queries (reports by department) to one query."""

    name = models.CharField(_("name"), max_length=100)
    short_name = models.CharField(_("short name"), max_length=40, blank=True)

    node_order_by = ["name"]
    objects = DepartmentManager()

    class Meta:
        verbose_name = _("department")
        verbose_name_plural = _("departments")

    def __str__(self):
        return self.name

    def indented_name(self):
        return "— " * (self.depth - 1) + self.name

    indented_name.short_description = _("name")

    @property
    def full_name(self):
        """Names from the top of the tree down, joined by ' / '."""
        return " / ".join(d.name for d in [*self.get_ancestors(), self])


mobile_validator = RegexValidator(r"^1\d{10}$", _("Enter an 11-digit mobile number."))


class OfficialQuerySet(DigestQuerySet):
    def active(self):
        return self.filter(user__is_active=True)

    def in_department(self, department):
        return self.filter(department__path__startswith=department.path)

    def in_any_department(self, departments):
        """Officials of any of these departments or the departments below them."""
        departments = list(departments)
        if not departments:
            return self.none()
        condition = models.Q()
        for department in departments:
            condition |= models.Q(department__path__startswith=department.path)
        return self.filter(condition)

    def leaders(self):
        return self.filter(is_leader=True)


class Official(models.Model):
    """A civil servant's profile as the roster gives it. The staff number is the
    stable key that roster imports match on. The mobile number is personal data:
    sealed with SM4 while XUEFA_SM_CRYPTO is on, and looked up through its digest."""

    user = models.OneToOneField(
        User, on_delete=models.CASCADE, related_name="official", verbose_name=_("user")
    )
    staff_number = models.CharField(_("staff number"), max_length=32, unique=True)
    department = models.ForeignKey(
        Department,
        on_delete=models.PROTECT,
        related_name="officials",
        verbose_name=_("department"),
    )
    position = models.CharField(_("position"), max_length=64, blank=True)
    rank = models.CharField(_("rank"), max_length=64, blank=True)
    is_leader = models.BooleanField(_("leader"), default=False)
    mobile = EncryptedCharField(
        _("mobile"), max_length=11, blank=True, validators=[mobile_validator]
    )
    mobile_digest = DigestField(source="mobile")
    joined_on = models.DateField(
        _("joined on"),
        null=True,
        blank=True,
        help_text=_(
            "When the official joined the organisation. Leave blank for staff who were "
            "here before the current year; a joiner's first-year requirements are prorated."
        ),
    )
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)
    updated_at = models.DateTimeField(_("updated at"), auto_now=True)

    objects = OfficialQuerySet.as_manager()

    class Meta:
        verbose_name = _("official")
        verbose_name_plural = _("officials")
        ordering = ["department__path", "staff_number"]
        indexes = [
            models.Index(
                fields=["mobile_digest"],
                name="official_mobile_digest",
                condition=models.Q(mobile_digest__isnull=False),
            )
        ]
        permissions = [
            ("import_roster", _("Can import the roster")),
            ("view_reports", _("Can view completion reports")),
        ]

    def __str__(self):
        return f"{self.user.get_full_name()} ({self.staff_number})"

    def save(self, *args, **kwargs):
        """Saving a new official or a changed department writes the department history
        (`DepartmentMembership`), whoever saves: the admin, the roster import, a script."""
        if "update_fields" in kwargs:
            kwargs["update_fields"] = with_digests(Official, kwargs["update_fields"])
        adding = self._state.adding
        previous = None
        if not adding:
            previous = getattr(self, "_loaded_department_id", None)
            if previous is None:
                previous = (
                    Official.objects.filter(pk=self.pk)
                    .values_list("department_id", flat=True)
                    .first()
                )
        super().save(*args, **kwargs)
        if adding or (previous is not None and previous != self.department_id):
            DepartmentMembership.record(self, first=adding)
        self._loaded_department_id = self.department_id

    @classmethod
    def from_db(cls, db, field_names, values):
        instance = super().from_db(db, field_names, values)
        instance._loaded_department_id = instance.__dict__.get("department_id")
        return instance

    @property
    def name(self):
        return self.user.get_full_name()


class DepartmentMembership(models.Model):
    """Which department an official belonged to, from `start` until the day before
    `end` (both may be open: a blank start means "since before records began", a
    blank end "still there"). Written by `Official.save`, so a transfer never
    rewrites which department a past year's report put the official under."""

    # Records, not content: Wagtail's usage report need not index them.
    wagtail_reference_index_ignore = True

    official = models.ForeignKey(
        Official,
        on_delete=models.CASCADE,
        related_name="department_history",
        verbose_name=_("official"),
    )
    department = models.ForeignKey(
        Department,
        on_delete=models.CASCADE,
        related_name="memberships",
        verbose_name=_("department"),
    )
    start = models.DateField(_("from"), null=True, blank=True)
    end = models.DateField(_("until"), null=True, blank=True)

    class Meta:
        verbose_name = _("department membership")
        verbose_name_plural = _("department history")
        ordering = ["official", models.F("start").asc(nulls_first=True), "pk"]
        indexes = [models.Index(fields=["official", "start"])]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(start__isnull=True)
                | models.Q(end__isnull=True)
                | models.Q(end__gte=models.F("start")),
                name="department_membership_ends_after_start",
            )
        ]

    def __str__(self):
        return f"{self.official_id} · {self.department_id} · {self.start}–{self.end or ''}"

    @classmethod
    def record(cls, official, first=False):
        """Close the official's open membership today and open one in their current
        department. A new official's first membership starts when they joined (blank
        when unknown: there since before records began)."""
        if first:
            cls.objects.create(
                official=official, department_id=official.department_id, start=official.joined_on
            )
        else:
            cls.record_transfers([official])

    @classmethod
    def record_transfers(cls, officials):
        """Close the open memberships of officials who moved today and open one in each
        one's current department: four queries however many moved."""
        if not officials:
            return
        today = timezone.localdate()
        open_rows = cls.objects.filter(official__in=[o.pk for o in officials], end__isnull=True)
        # A transfer on the day the last one began replaces it rather than leaving a
        # zero-length stay behind.
        open_rows.filter(start=today).delete()
        open_rows.update(end=today)
        cls.objects.bulk_create(
            [cls(official=o, department_id=o.department_id, start=today) for o in officials]
        )


def departments_at(officials, day):
    """{official_id: department_id} on `day` for `officials` (a queryset or ids), from
    the department history, falling back to the current department for officials
    without history on that day. Two queries for any number of officials."""
    if hasattr(officials, "values_list"):
        current = dict(officials.values_list("pk", "department_id"))
    else:
        current = dict(
            Official.objects.filter(pk__in=list(officials)).values_list("pk", "department_id")
        )
    found = {}
    rows = DepartmentMembership.objects.filter(
        models.Q(start__isnull=True) | models.Q(start__lte=day),
        models.Q(end__isnull=True) | models.Q(end__gt=day),
    )
    if hasattr(officials, "values_list"):
        rows = rows.filter(official__in=officials.values("pk"))
    else:
        rows = rows.filter(official_id__in=list(current))
    for official_id, department_id in rows.order_by(
        models.F("start").asc(nulls_first=True), "pk"
    ).values_list("official_id", "department_id"):
        found[official_id] = department_id  # the latest start on that day wins
    return {pk: found.get(pk, department_id) for pk, department_id in current.items()}


def reporting_day(year):
    """The day a year's reports place officials by department: the year's last day,
    or today while the year is running."""
    return min(datetime.date(year, 12, 31), timezone.localdate())


class ReportScope(models.Model):
    """Limits a back-office user's reports to one department subtree (for example the
    HR office of a bureau). Users without a scope see the whole organisation."""

    user = models.OneToOneField(
        User, on_delete=models.CASCADE, related_name="report_scope", verbose_name=_("user")
    )
    department = models.ForeignKey(
        Department,
        on_delete=models.CASCADE,
        related_name="report_scopes",
        verbose_name=_("department"),
        help_text=_("The user's reports show only this department and the ones below it."),
    )

    class Meta:
        verbose_name = _("report scope")
        verbose_name_plural = _("report scopes")

    def __str__(self):
        return f"{self.user} → {self.department}"
