"""Move every sealed value to the current SM4 key. To rotate: make a new key the
current one (XUEFA_SM4_KEY=k2:…), keep the old one in XUEFA_SM4_OLD_KEYS, restart
the app processes, run this command, then drop the old key. Batched and idempotent:
values already under the current key are left alone."""

from django.core.exceptions import ImproperlyConfigured
from django.core.management.base import BaseCommand, CommandError

from learning import crypto, personal_data


class Command(BaseCommand):
    help = (
        "Seal again with XUEFA_SM4_KEY every value sealed with a key from "
        "XUEFA_SM4_OLD_KEYS, so the old keys are no longer needed."
    )

    def add_arguments(self, parser):
        parser.add_argument("--batch-size", type=int, default=personal_data.BATCH)

    def handle(self, *args, batch_size, **options):
        try:
            current = crypto.keyring().current
            for model, field in personal_data.sealed_fields():
                count = personal_data.reseal_with_current_key(model, field, batch_size)
                self.stdout.write(
                    f"{model._meta.label}.{field.name}: {count} moved to key {current}"
                )
        except ImproperlyConfigured as error:
            raise CommandError(str(error)) from error
