"""Seal the personal data stored in plain text once XUEFA_SM_CRYPTO is on (values
written before the switch, or while it was off); with --decrypt, store it in plain
text again before the switch is turned off for good. Batched and idempotent: a run
that stops half-way is finished by running it again."""

from django.core.exceptions import ImproperlyConfigured
from django.core.management.base import BaseCommand, CommandError
from django.utils.translation import gettext as _

from learning import crypto, personal_data


class Command(BaseCommand):
    help = (
        "Seal plain-text personal data with the current SM4 key and write its digests "
        "(XUEFA_SM_CRYPTO on); --refresh-digests after XUEFA_SM3_DIGEST_KEY changed; "
        "--decrypt stores it in plain text again (switch off, keys still set)."
    )

    def add_arguments(self, parser):
        parser.add_argument("--batch-size", type=int, default=personal_data.BATCH)
        action = parser.add_mutually_exclusive_group()
        action.add_argument(
            "--refresh-digests",
            action="store_true",
            help="Also write every value's digest again (after the digest key changed).",
        )
        action.add_argument(
            "--decrypt",
            action="store_true",
            help="Open every sealed value and store it in plain text (switch off).",
        )

    def handle(self, *args, batch_size, refresh_digests=False, decrypt=False, **options):
        if decrypt == crypto.enabled():
            raise CommandError(
                _("Turn XUEFA_SM_CRYPTO off first (keep the keys set) to decrypt.")
                if decrypt
                else _("XUEFA_SM_CRYPTO is off: nothing is sealed while it is off.")
            )
        try:
            crypto.keyring()
            for model, field in personal_data.sealed_fields():
                label = f"{model._meta.label}.{field.name}"
                if decrypt:
                    count = personal_data.open_sealed_values(model, field, batch_size)
                    self.stdout.write(f"{label}: {count} stored in plain text")
                    continue
                count = personal_data.seal_plain_values(model, field, batch_size)
                self.stdout.write(f"{label}: {count} sealed")
                if refresh_digests:
                    count = personal_data.refresh_digests(model, field, batch_size)
                    self.stdout.write(f"{label}: {count} digests written")
        except ImproperlyConfigured as error:
            raise CommandError(str(error)) from error
