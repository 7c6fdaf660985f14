"""factory_boy factories shared by every app's tests."""

import datetime

from django.contrib.auth.models import Group

import factory

from learning import roles
from learning.models import Department, Official, User

DEFAULT_PASSWORD = "correct-horse-battery"


class UserFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = User
        django_get_or_create = ("username",)
        skip_postgeneration_save = True

    username = factory.Sequence(lambda n: f"user{n}")
    name = factory.Sequence(lambda n: f"测试用户{n}")
    email = factory.LazyAttribute(lambda u: f"{u.username}@example.cn")
    password = factory.PostGenerationMethodCall("set_password", DEFAULT_PASSWORD)

    @factory.post_generation
    def roles(self, create, extracted, **kwargs):
        """UserFactory(roles=["Organizer"]) puts the user in those role groups."""
        if create and extracted:
            for role in extracted:
                group, _ = Group.objects.get_or_create(name=role)
                self.groups.add(group)
        if create:
            self.save()


class DepartmentFactory(factory.django.DjangoModelFactory):
    """A department: a root unless `parent` is given."""

    class Meta:
        model = Department

    name = factory.Sequence(lambda n: f"部门{n}")

    @classmethod
    def _create(cls, model_class, *args, parent=None, **kwargs):
        if parent is None:
            return model_class.add_root(**kwargs)
        parent.refresh_from_db()
        return parent.add_child(**kwargs)


class OfficialFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Official

    user = factory.SubFactory(UserFactory, roles=[roles.OFFICIAL])
    staff_number = factory.Sequence(lambda n: f"T{n:05d}")
    department = factory.SubFactory(DepartmentFactory)
    position = "科员"
    rank = "一级科员"
    is_leader = False
    mobile = factory.Sequence(lambda n: f"138{n:08d}")


class AgendaItemFactory(factory.django.DjangoModelFactory):
    """An item of the meeting law-study agenda (learning.AgendaItem), planned."""

    class Meta:
        model = "learning.AgendaItem"

    date = factory.Sequence(lambda n: datetime.date(2026, 3, 1 + n % 28))
    meeting = "executive"
    title = factory.Sequence(lambda n: f"学习法律{n}")
    credit_minutes = 60
