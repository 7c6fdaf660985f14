"""Certificates (合格证书) for every pass of the annual and pre-appointment exams, and
for a completed study plan where the plan says so. Each has an unguessable code that
the public verification page (/verify/<code>/) looks up."""

import secrets

from django.db import models
from django.utils.translation import gettext_lazy as _

# Crockford's base32 without I, L, O and U: nothing to misread when typed from paper.
CODE_ALPHABET = "0123456789ABCDEFGHJKMNPQRSTVWXYZ"
CODE_LENGTH = 20  # 100 bits


def new_certificate_code():
    return "".join(secrets.choice(CODE_ALPHABET) for _i in range(CODE_LENGTH))


class CertificateKind(models.TextChoices):
    EXAM = "exam", _("Exam passed")
    PLAN = "plan", _("Study plan completed")


class Certificate(models.Model):
    """What the certificate states, frozen when it is issued; `revoked_at` set when
    its result is voided (the verification page then says so)."""

    wagtail_reference_index_ignore = True

    code = models.CharField(
        _("verification code"), max_length=32, unique=True, default=new_certificate_code
    )
    kind = models.CharField(_("kind"), max_length=8, choices=CertificateKind.choices)
    official = models.ForeignKey(
        "learning.Official",
        on_delete=models.PROTECT,
        related_name="certificates",
        verbose_name=_("official"),
    )
    attempt = models.OneToOneField(
        "exams.Attempt",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="certificate",
        verbose_name=_("attempt"),
    )
    plan = models.ForeignKey(
        "learning.StudyPlan",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("study plan"),
    )
    title = models.CharField(_("certifies"), max_length=200)
    holder_name = models.CharField(_("holder"), max_length=100)
    band = models.CharField(_("band"), max_length=10, blank=True)
    issued_on = models.DateField(_("date"))
    created_at = models.DateTimeField(_("issued at"), auto_now_add=True)
    revoked_at = models.DateTimeField(_("revoked at"), null=True, blank=True)
    revoke_reason = models.TextField(_("reason for revoking"), blank=True)

    class Meta:
        verbose_name = _("certificate")
        verbose_name_plural = _("certificates")
        ordering = ["-issued_on", "-pk"]
        constraints = [
            models.UniqueConstraint(
                fields=["official", "plan"],
                condition=models.Q(plan__isnull=False),
                name="one_certificate_per_plan",
            ),
            models.CheckConstraint(
                condition=(
                    models.Q(kind="exam", attempt__isnull=False, plan__isnull=True)
                    | models.Q(kind="plan", plan__isnull=False, attempt__isnull=True)
                ),
                name="certificate_names_its_source",
            ),
        ]

    def __str__(self):
        return f"{self.code} {self.title}"

    @property
    def is_revoked(self):
        return self.revoked_at is not None
