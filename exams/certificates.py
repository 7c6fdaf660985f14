"""The pre-appointment result certificate (任前法律知识考试成绩证明) as a PDF, in the
font of exams.pdf; the values are drawn as plain text (exams.pdf.text)."""

from io import BytesIO

from django.utils import timezone
from django.utils.translation import gettext as _

from reportlab.lib.pagesizes import A4
from reportlab.pdfgen import canvas

from .models import SessionCandidate
from .pdf import font as pdf_font
from .pdf import text as pdf_text


def certificate_pdf(attempt):
    """Bytes of a one-page A4 certificate for a finished attempt."""
    font = pdf_font()
    session = attempt.session
    official = attempt.official
    # A make-up's candidates are named on the pre-appointment session it makes up.
    candidate = SessionCandidate.objects.filter(
        session_id=session.makes_up_id or session.pk, official=official
    ).first()
    post = candidate.intended_post if candidate and candidate.intended_post else "—"
    submitted = timezone.localtime(attempt.submitted_at or attempt.started_at)
    rows = [
        (_("Name"), official.name),
        (_("Staff number"), official.staff_number),
        (_("Department"), official.department.name),
        (_("Intended post"), post),
        (_("Exam"), session.title),
        (_("Date"), submitted.strftime("%Y-%m-%d")),
        (_("Score"), f"{attempt.score:.2f} / {attempt.max_score:.2f}"),
        (_("Band"), attempt.get_band_display()),
        (_("Result"), _("Passed") if attempt.passed else _("Failed")),
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
