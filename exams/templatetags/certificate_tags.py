"""The certificates section of the study record page (learning's record.html includes
exams/includes/record_certificates.html, so learning imports nothing of exams)."""

from django import template
from django.utils import timezone

from .. import certificates
from ..models import Certificate

register = template.Library()


@register.simple_tag
def record_certificates(official, year):
    """The official's certificates, newest first, once the certificates of the year's
    study plans they have completed are issued (opening the record issues them)."""
    if official is None:
        return []
    if isinstance(year, int) and year <= timezone.localdate().year:
        certificates.issue_plan_certificates_for(official, year)
    listed = list(Certificate.objects.filter(official=official).order_by("-issued_on", "-pk"))
    for certificate in listed:
        certificate.band_label = certificates.band_label(certificate.band)
    return listed
