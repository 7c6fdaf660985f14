"""What follows once an attempt's result is final: graded on submit with nothing left
to mark, or its last hand-marked answer marked (exams.marking)."""

from django.db import transaction

from . import certificates


def on_result_final(attempt):
    """Call when `attempt` has its final score, band and pass, inside or outside a
    transaction: the certificate of a pass is issued once the result is committed."""
    if attempt.passed and attempt.voided_at is None:
        transaction.on_commit(lambda: certificates.issue_for_attempt(attempt))
