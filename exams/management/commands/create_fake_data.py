"""Sized fake data for benchmarks: `create_fake_data --officials 50000`.

Creates, with bulk inserts, a district of about 40 bureaus with offices, N officials
and a year of their study, exams and attendance (exams/fake_data.py says what; the
benches build their officials and organisation with the same code).

It refuses to run twice on the same database (the fake district's root department
marks it); reset the database to make a different size.
"""

from django.core.management.base import BaseCommand, CommandError

from exams.fake_data import ROOT_NAME, USERNAME_PREFIX, FakeData
from learning.models import Department, User


class Command(BaseCommand):
    help = __doc__.strip().splitlines()[0] + " See the module docstring for what it makes."

    def add_arguments(self, parser):
        parser.add_argument("--officials", type=int, required=True)
        parser.add_argument("--year", type=int, default=None)
        parser.add_argument("--seed", type=int, default=1)

    def handle(self, *args, officials, year=None, seed=1, **options):
        if officials < 1:
            raise CommandError("--officials must be at least 1.")
        if Department.objects.filter(depth=1, name=ROOT_NAME).exists():
            raise CommandError(
                f"Fake data already exists (department {ROOT_NAME!r}). "
                "Reset the database to create it again with another size."
            )
        if User.objects.filter(username__startswith=USERNAME_PREFIX).exists():
            raise CommandError(f"Accounts named {USERNAME_PREFIX}… already exist.")
        log = self.stdout.write if options.get("verbosity", 1) > 1 else None
        self.stdout.write(FakeData(year=year, seed=seed, log=log).build(officials))
