"""The three roles of DESIGN.md as Django groups, and the permissions each holds.

The groups are created by a data migration; permissions are (re)granted after every
`migrate` because an app's permissions only exist once its migrations have run.
Each app declares what its models grant through the `register_role_permissions`
Wagtail hook, so roles grow with the apps without this module knowing them."""

from django.apps import apps as global_apps
from django.contrib.auth.management import create_permissions
from django.contrib.auth.models import Group, Permission
from django.db import DEFAULT_DB_ALIAS

from wagtail import hooks
from wagtail.models import Collection, GroupCollectionPermission, GroupPagePermission, Page

OFFICIAL = "Official"
ORGANIZER = "Organizer"
HR = "HR"
ROLES = (OFFICIAL, ORGANIZER, HR)

# Wagtail page permissions organizers hold on the whole page tree.
ORGANIZER_PAGE_PERMISSIONS = ("add_page", "change_page", "publish_page", "lock_page", "unlock_page")
# Collection permissions organizers hold on the root collection (images, documents).
ORGANIZER_COLLECTION_PERMISSIONS = (
    "wagtailimages.add_image",
    "wagtailimages.change_image",
    "wagtailimages.choose_image",
    "wagtaildocs.add_document",
    "wagtaildocs.change_document",
    "wagtaildocs.choose_document",
)


def declared_role_permissions():
    """{role: set of "app_label.codename"} collected from every app's hooks."""
    declared = {role: set() for role in ROLES}
    for hook in hooks.get_hooks("register_role_permissions"):
        for role, perms in hook().items():
            declared[role].update(perms)
    return declared


def _permissions(Permission, names):
    found = []
    for name in sorted(names):
        app_label, codename = name.split(".", 1)
        perm = Permission.objects.filter(
            content_type__app_label=app_label, codename=codename
        ).first()
        if perm is None:
            raise LookupError(f"Role permission {name} does not exist")
        found.append(perm)
    return found


def sync_role_permissions(using=DEFAULT_DB_ALIAS, **kwargs):
    """Grant each role the permissions the apps declare. Only adds: permissions an
    administrator granted by hand are kept."""
    for app_config in global_apps.get_app_configs():
        create_permissions(app_config, verbosity=0, using=using)

    for role, names in declared_role_permissions().items():
        group, _ = Group.objects.using(using).get_or_create(name=role)
        group.permissions.add(*_permissions(Permission, names))

    organizers = Group.objects.using(using).get(name=ORGANIZER)
    root_page = Page.get_first_root_node()
    if root_page is not None:
        for codename in ORGANIZER_PAGE_PERMISSIONS:
            GroupPagePermission.objects.using(using).get_or_create(
                group=organizers,
                page=root_page,
                permission=Permission.objects.get(
                    content_type__app_label="wagtailcore", codename=codename
                ),
            )
    root_collection = Collection.get_first_root_node()
    if root_collection is not None:
        for perm in _permissions(Permission, ORGANIZER_COLLECTION_PERMISSIONS):
            GroupCollectionPermission.objects.using(using).get_or_create(
                group=organizers, collection=root_collection, permission=perm
            )


def user_roles(user):
    """The role names a user holds (superusers hold every role)."""
    if not user.is_authenticated:
        return set()
    if user.is_superuser:
        return set(ROLES)
    return {g.name for g in user.groups.all() if g.name in ROLES}


def is_back_office(user):
    """Organizers, HR and superusers: the people who work in the Wagtail admin."""
    return user.is_authenticated and (
        user.is_superuser or user.groups.filter(name__in=(ORGANIZER, HR)).exists()
    )
