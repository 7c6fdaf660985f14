"""Certificates (合格证书): issued for every pass of an annual or pre-appointment exam
(or a make-up of one) and for a completed study plan that promises one; revoked when
the result behind them is voided or marked down to a fail. Each carries an
unguessable code that the public verification page (/verify/<code>/) looks up.

Also the PDFs: the certificate itself, with a QR code of its verification address,
and the pre-appointment result statement (成绩证明) HR files for pass or fail. Every
value is drawn as plain text (exams.pdf)."""

import re
import unicodedata
from io import BytesIO

from django.conf import settings
from django.db import IntegrityError, transaction
from django.db.models import Q
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from wagtail.log_actions import log

from django_tasks import task
from reportlab.graphics import renderPDF
from reportlab.graphics.barcode.qr import QrCodeWidget
from reportlab.graphics.shapes import Drawing
from reportlab.lib import colors
from reportlab.lib.pagesizes import A4
from reportlab.lib.styles import ParagraphStyle
from reportlab.pdfgen import canvas

from learning.completion import evaluate
from learning.models import Official, StudyPlan

from .models import (
    Attempt,
    Band,
    Certificate,
    CertificateKind,
    PlanExam,
    SessionCandidate,
    SessionKind,
)
from .models.certificates import CODE_ALPHABET, CODE_LENGTH
from .pdf import font as pdf_font
from .pdf import paragraph
from .pdf import text as pdf_text

REVOKED = "xuefa.certificate.revoke"
REINSTATED = "xuefa.certificate.reinstate"
# Sessions whose passes are certified, themselves or through a make-up of them.
CERTIFIED_KINDS = (SessionKind.ANNUAL, SessionKind.PRE_APPOINTMENT)
BULK_CHUNK = 1000


def register_actions(actions):
    actions.register_action(
        REVOKED, gettext_lazy("Revoke certificate"), gettext_lazy("Certificate revoked")
    )
    actions.register_action(
        REINSTATED, gettext_lazy("Reinstate certificate"), gettext_lazy("Certificate reinstated")
    )


# Codes and names as people see them ---------------------------------------------

# Crockford's reading of what people type: O is 0, I and L are 1.
_ALIASES = str.maketrans({"O": "0", "I": "1", "L": "1"})
_NOT_CODE = re.compile(r"[^0-9A-Z]+")


def normalise_code(typed):
    """A code as stored, from what someone typed or scanned: full-width characters,
    any case, spaces, hyphens or anything else between the groups, O for 0 and I or
    L for 1. What is left holds letters and digits only."""
    text = unicodedata.normalize("NFKC", str(typed or "")).upper()
    return _NOT_CODE.sub("", text).translate(_ALIASES)


def is_well_formed(code):
    return len(code) == CODE_LENGTH and all(c in CODE_ALPHABET for c in code)


def grouped_code(code):
    """The code in groups of five for print (ABCDE-FGHJK-...); any grouping is read."""
    return "-".join(code[i : i + 5] for i in range(0, len(code), 5))


def mask_name(name):
    """The holder's name as the public page shows it: 王*明, 王* for two characters,
    the character and * for one; longer names keep their first and last."""
    name = (name or "").strip()
    if len(name) <= 1:
        return f"{name}*"
    if len(name) == 2:
        return f"{name[0]}*"
    return name[0] + "*" * (len(name) - 2) + name[-1]


def band_label(band):
    """A certificate's band as words (it keeps the attempt's band value)."""
    return dict(Band.choices).get(band, band) if band else ""


def verify_path(code):
    return reverse("verify:certificate", args=[code])


def verify_url(code, request=None):
    """The absolute address of a code's verification page: from the request when
    there is one, else from WAGTAILADMIN_BASE_URL (background jobs)."""
    if request is not None:
        return request.build_absolute_uri(verify_path(code))
    return settings.WAGTAILADMIN_BASE_URL.rstrip("/") + verify_path(code)


# Exam certificates ----------------------------------------------------------------


def certifies_session(session):
    """Annual and pre-appointment exams, and make-ups of them; never practice."""
    if session.kind in CERTIFIED_KINDS:
        return True
    return session.kind == SessionKind.MAKEUP and bool(
        session.makes_up_id and session.makes_up.kind in CERTIFIED_KINDS
    )


def qualifies(attempt):
    """A passed, final, not voided attempt of a certified session."""
    return (
        attempt.is_finished
        and not attempt.marking_pending
        and attempt.score is not None
        and attempt.passed is True
        and attempt.voided_at is None
        and certifies_session(attempt.session)
    )


def issue_for_attempt(attempt):
    """The attempt's certificate, issued now if it qualifies and has none; None if it
    does not qualify. Safe to call again and from concurrent requests: the attempt
    has at most one certificate (one-to-one), and a loser of the race gets the
    winner's. A certificate revoked by a re-mark is reinstated when the attempt
    passes again; its band follows the attempt's."""
    attempt = Attempt.objects.select_related("session__makes_up", "official__user").get(
        pk=attempt.pk
    )
    if not qualifies(attempt):
        return None
    for _try in range(3):
        existing = Certificate.objects.filter(attempt=attempt).first()
        if existing is not None:
            return _brought_up_to_date(existing, attempt)
        try:
            with transaction.atomic():
                return Certificate.objects.create(
                    kind=CertificateKind.EXAM,
                    official=attempt.official,
                    attempt=attempt,
                    title=attempt.session.title,
                    holder_name=attempt.official.name,
                    band=attempt.band,
                    issued_on=timezone.localdate(attempt.submitted_at or attempt.started_at),
                )
        except IntegrityError:
            continue  # another request issued it (or, once in 2**100, the code was taken)
    raise IntegrityError(f"Could not issue a certificate for attempt {attempt.pk}")


def issue_missing_exam_certificates():
    """Issue the certificate of every qualifying attempt that has none: passes from
    before certificates existed, or one whose commit hook was lost to a crash.
    Returns how many were issued."""
    certified = Q(session__kind__in=CERTIFIED_KINDS) | Q(
        session__kind=SessionKind.MAKEUP, session__makes_up__kind__in=CERTIFIED_KINDS
    )
    missing = (
        Attempt.objects.finished()
        .filter(certified, passed=True, score__isnull=False, marking_pending=False)
        .filter(voided_at__isnull=True, certificate__isnull=True)
        .order_by("pk")
    )
    return sum(issue_for_attempt(a) is not None for a in missing.only("pk").iterator())


def _brought_up_to_date(certificate, attempt):
    changed = []
    if certificate.band != attempt.band:
        certificate.band = attempt.band
        changed.append("band")
    if certificate.is_revoked:
        certificate.revoked_at, certificate.revoke_reason = None, ""
        changed += ["revoked_at", "revoke_reason"]
        log(certificate, REINSTATED, data={"attempt": attempt.pk})
    if changed:
        certificate.save(update_fields=changed)
    return certificate


def revoke(certificate, reason, user=None, now=None):
    """Revoke one certificate (kept, with when and why); the verification page then
    says it was revoked. Returns whether it was valid until now."""
    now = now or timezone.now()
    reason = str(reason)  # a translated reason is stored as the text it reads now
    revoked = Certificate.objects.filter(pk=certificate.pk, revoked_at__isnull=True).update(
        revoked_at=now, revoke_reason=reason
    )
    if revoked:
        certificate.revoked_at, certificate.revoke_reason = now, reason
        log(certificate, REVOKED, user=user, data={"reason": reason})
    return bool(revoked)


def revoke_for_attempt(attempt, reason, user=None):
    """Revoke the attempt's certificate, if it has a valid one (its result was voided,
    or a re-mark made it a fail). Returns the certificate or None."""
    certificate = Certificate.objects.filter(attempt_id=attempt.pk).first()
    if certificate is not None and revoke(certificate, reason, user):
        return certificate
    return None


# Study plan certificates ---------------------------------------------------------


def plan_title(plan):
    """What a plan's certificate names: the plan's title, with its year in front
    unless the title already says it (2026年度学法计划)."""
    year = str(plan.year)
    return plan.title if year in plan.title else f"{year} {plan.title}"


def _completed(completion):
    """Completed the plan by doing it: exempted officials are excused, not certified."""
    return completion.has_plan and completion.is_complete and not completion.exempt


def _certificate_plans(year, official=None):
    plans = StudyPlan.objects.filter(year=year, certificate_on_completion=True)
    if official is not None:
        held = Certificate.objects.filter(official=official, plan__isnull=False)
        plans = plans.exclude(pk__in=held.values("plan_id"))
    return list(plans.prefetch_related("departments"))


def _plan_certificate(official_id, holder_name, plan, today):
    return Certificate(
        kind=CertificateKind.PLAN,
        official_id=official_id,
        plan=plan,
        title=plan_title(plan),
        holder_name=holder_name,
        issued_on=today,
    )


def issue_for_plan(official, plan):
    """The official's certificate for the plan, issued now if the plan promises one
    and learning.completion says the official completed it; else None."""
    existing = Certificate.objects.filter(official=official, plan=plan).first()
    if existing is not None or not plan.certificate_on_completion:
        return existing
    completion = evaluate([official], plan.year, [plan])[official.pk]
    if not _completed(completion):
        return None
    certificate = _plan_certificate(official.pk, official.name, plan, timezone.localdate())
    try:
        with transaction.atomic():
            certificate.save(force_insert=True)
        return certificate
    except IntegrityError:
        return Certificate.objects.get(official=official, plan=plan)


def issue_plan_certificates_for(official, year):
    """Issue the official's due certificates of the year's plans (the record page and
    its PDF call this). A few queries when nothing is due."""
    if year > timezone.localdate().year:
        return []
    issued = []
    for plan in _certificate_plans(year, official):
        certificate = issue_for_plan(official, plan)
        if certificate is not None:
            issued.append(certificate)
    return issued


def issue_plan_certificates(years=None):
    """Issue every due plan certificate of `years` (this year and last by default,
    so a plan completed on New Year's Eve is certified the next night). Idempotent:
    officials who hold one are skipped and concurrent runs insert nothing twice.
    Returns how many were issued."""
    today = timezone.localdate()
    years = years or [today.year - 1, today.year]
    issued = 0
    for year in sorted(set(years)):
        for plan in _certificate_plans(year):
            issued += _issue_plan_to_everyone(plan, today)
    return issued


def _issue_plan_to_everyone(plan, today):
    held = Certificate.objects.filter(plan=plan)
    before = held.count()
    officials = Official.objects.exclude(pk__in=held.values("official_id"))
    completions = evaluate(officials, plan.year, [plan])
    done = sorted(pk for pk, completion in completions.items() if _completed(completion))
    for offset in range(0, len(done), BULK_CHUNK):
        people = Official.objects.filter(pk__in=done[offset : offset + BULK_CHUNK])
        Certificate.objects.bulk_create(
            [
                _plan_certificate(o.pk, o.name, plan, today)
                for o in people.select_related("user").order_by()
            ],
            ignore_conflicts=True,
        )
    return held.count() - before


@task()
def issue_plan_certificates_task(years=None, exams=False):
    """Nightly: every due plan certificate (see issue_plan_certificates), and with
    `exams` every missing exam certificate too. Returns how many were issued."""
    issued = issue_plan_certificates(years)
    if exams:
        issued += issue_missing_exam_certificates()
    return issued


def recheck_plan_certificates(attempt, reason, user=None):
    """After an attempt's result is voided: revoke the official's certificates of
    plans that required its exam and that they no longer complete without it."""
    session = attempt.session
    required = PlanExam.objects.filter(session_id=session.makes_up_id or session.pk)
    certificates = Certificate.objects.filter(
        official_id=attempt.official_id,
        plan_id__in=required.values("plan_id"),
        revoked_at__isnull=True,
    ).select_related("plan")
    revoked = []
    for certificate in certificates:
        plan = StudyPlan.objects.prefetch_related("departments").get(pk=certificate.plan_id)
        completion = evaluate([attempt.official_id], plan.year, [plan])[attempt.official_id]
        if not _completed(completion) and revoke(certificate, reason, user):
            revoked.append(certificate)
    return revoked


# The certificate as a PDF ---------------------------------------------------------

LEFT, LABEL_WIDTH, RIGHT = 100, 120, 95
QR_SIZE = 112


def intended_post(attempt):
    """The post a pre-appointment candidate is proposed for; a make-up's candidates
    are named on the session it makes up. None for other exams."""
    session = attempt.session
    if not session.gives_certificate:
        return None
    candidate = SessionCandidate.objects.filter(
        session_id=session.makes_up_id or session.pk, official_id=attempt.official_id
    ).first()
    return candidate.intended_post if candidate and candidate.intended_post else "—"


def certificate_rows(certificate):
    """(label, value) pairs the certificate states, in print order."""
    rows = [(_("Name"), certificate.holder_name)]
    if certificate.kind == CertificateKind.PLAN:
        rows.append((_("Study plan"), certificate.title))
    else:
        rows.append((_("Exam"), certificate.title))
        post = intended_post(certificate.attempt)
        if post is not None:
            rows.append((_("Intended post"), post))
    rows.append((_("Date"), f"{certificate.issued_on:%Y-%m-%d}"))
    if certificate.band:
        rows.append((_("Band"), band_label(certificate.band)))
    rows.append((_("Verification code"), grouped_code(certificate.code)))
    return rows


def certificate_pdf_bytes(certificate, url):
    """One A4 page: title, what it certifies, the code and a QR code of `url` (the
    absolute verification address, also printed beneath as text)."""
    font = pdf_font()
    buffer = BytesIO()
    pdf = canvas.Canvas(buffer, pagesize=A4)
    # Translators: the title printed on a certificate, 合格证书.
    title = _("Certificate of qualification")
    pdf.setTitle(title)
    width, height = A4
    _frame(pdf, width, height)
    pdf.setFont(font, 34)
    pdf.setFillColor(colors.HexColor("#b5221b"))
    pdf.drawCentredString(width / 2, height - 150, title)
    pdf.setFillColor(colors.black)
    pdf.setFont(font, 14)
    pdf.drawCentredString(width / 2, height - 185, pdf_text(certificate.get_kind_display()))
    y = _draw_rows(pdf, font, certificate_rows(certificate), height - 250, width)
    _draw_check_note(pdf, font, url, width, y)
    _draw_qr(pdf, url, width - RIGHT - QR_SIZE, 80, QR_SIZE)
    pdf.showPage()
    pdf.save()
    return buffer.getvalue()


def _frame(pdf, width, height):
    pdf.setStrokeColor(colors.HexColor("#b5221b"))
    pdf.setLineWidth(3)
    pdf.rect(28, 28, width - 56, height - 56)
    pdf.setLineWidth(0.8)
    pdf.rect(38, 38, width - 76, height - 76)
    pdf.setStrokeColor(colors.black)


def _draw_rows(pdf, font, rows, y, width):
    """Each label and its value; a long value wraps under itself, never cut."""
    style = ParagraphStyle("value", fontName=font, fontSize=14, leading=20, wordWrap="CJK")
    value_width = width - LEFT - LABEL_WIDTH - RIGHT
    for label, value in rows:
        pdf.setFont(font, 14)
        pdf.drawString(LEFT, y, f"{label}：")
        block = paragraph(value, style)
        _w, block_height = block.wrapOn(pdf, value_width, 400)
        # The first line's baseline sits on the label's.
        block.drawOn(pdf, LEFT + LABEL_WIDTH, y - block_height + style.leading - 5)
        y -= max(block_height, style.leading) + 16
    return y


def _draw_check_note(pdf, font, url, width, y):
    style = ParagraphStyle("note", fontName=font, fontSize=10, leading=14, wordWrap="CJK")
    note = _(
        "Anyone can check this certificate: scan the QR code, or open %(url)s. Printed %(when)s."
    ) % {
        "url": url,
        "when": f"{timezone.localtime():%Y-%m-%d %H:%M}",
    }
    block = paragraph(note, style)
    note_width = width - LEFT - RIGHT - QR_SIZE - 20
    _w, block_height = block.wrapOn(pdf, note_width, 200)
    block.drawOn(pdf, LEFT, 80 + QR_SIZE - block_height)


def _draw_qr(pdf, url, x, y, size):
    """The QR code, drawn as squares on the page itself: no image, form or link
    object that a viewer might act on."""
    widget = QrCodeWidget(url, barLevel="M", barBorder=2, barWidth=size, barHeight=size)
    drawing = Drawing(size, size)
    drawing.add(widget)
    renderPDF.draw(drawing, pdf, x, y)


def certificate_pdf_for(certificate, request=None):
    """The certificate's PDF, its QR code pointing at this site's verification page."""
    return certificate_pdf_bytes(certificate, verify_url(certificate.code, request))


# The pre-appointment result statement (成绩证明) -----------------------------------


def certificate_pdf(attempt):
    """Bytes of the one-page result statement of a finished pre-appointment attempt,
    pass or fail, that HR files from the register (exams.reports)."""
    font = pdf_font()
    session = attempt.session
    official = attempt.official
    submitted = timezone.localtime(attempt.submitted_at or attempt.started_at)
    rows = [
        (_("Name"), official.name),
        (_("Staff number"), official.staff_number),
        (_("Department"), official.department.name),
        (_("Intended post"), intended_post(attempt) or "—"),
        (_("Exam"), session.title),
        (_("Date"), submitted.strftime("%Y-%m-%d")),
        (_("Score"), _score_text(attempt)),
        (_("Band"), attempt.get_band_display() or "—"),
        (_("Result"), _result_text(attempt)),
        (_("Verification code"), attempt.verification_code),
    ]
    buffer = BytesIO()
    pdf = canvas.Canvas(buffer, pagesize=A4)
    pdf.setTitle(_("Pre-appointment exam certificate"))
    width, height = A4
    pdf.setFont(font, 22)
    pdf.drawCentredString(width / 2, height - 110, _("Pre-appointment law exam result"))
    y = height - 180
    for label, value in rows:
        pdf.setFont(font, 13)
        pdf.drawString(90, y, f"{label}：")
        pdf.drawString(220, y, pdf_text(value))
        y -= 30
    pdf.setFont(font, 10)
    pdf.drawString(
        90, y - 30, _("Check this certificate with its verification code in the back office.")
    )
    pdf.drawString(
        90, y - 50, _("Printed %(when)s") % {"when": f"{timezone.localtime():%Y-%m-%d %H:%M}"}
    )
    pdf.showPage()
    pdf.save()
    return buffer.getvalue()


def _score_text(attempt):
    if attempt.score is None:
        return "—"
    return f"{attempt.score:.2f} / {attempt.max_score:.2f}"


def _result_text(attempt):
    if attempt.voided_at is not None:
        return _("Voided")
    if attempt.passed is None:
        return _("Pending marking")
    return _("Passed") if attempt.passed else _("Failed")
