"""Personal data sealed at rest with SM4 (GB/T 39786: 重要数据存储机密性和完整性) while
`XUEFA_SM_CRYPTO` is on, and still found by exact value through a keyed SM3 digest
kept in a column of its own (`learning/crypto.py` holds the algorithms and keys).

With the switch off and no key configured, an `EncryptedCharField` is a plain
CharField: same values, no converter on reading, its digest column NULL. With it on,
a value is sealed when written and opened when read, so forms, the admin, exports and
the roster import see the plain text. Values stored before the switch was turned on
are sealed by `manage.py encrypt_personal_data`; `manage.py rotate_sm4_key` moves
values to a new key."""

from django.apps import apps
from django.core.exceptions import FieldError, ImproperlyConfigured
from django.db import models, router, transaction
from django.db.models import Q, Transform, lookups
from django.db.models.expressions import Col
from django.db.models.sql.where import AND, OR, WhereNode
from django.utils.datastructures import DictWrapper
from django.utils.functional import cached_property

from . import crypto

BATCH = 500


class EncryptedCharField(models.CharField):
    """A CharField sealed with SM4-GCM while the switch is on. `max_length` is the plain
    value's (forms and validation); the column is as wide as the sealed form. Blank
    stays blank. Exact and `__in` lookups compare the field's `DigestField`; with the
    switch on, other comparisons (contains, ordering ranges…) would only see sealed
    text, so they raise instead of finding nothing. The column's name is authenticated
    with each value: renaming the model or field means decrypting first."""

    @property
    def context(self):
        return f"{self.model._meta.label_lower}.{self.name}"

    @cached_property
    def digest_field(self):
        for field in self.model._meta.concrete_fields:
            if isinstance(field, DigestField) and field.source == self.name:
                return field
        return None

    def db_type_parameters(self, connection):
        parameters = {**self.__dict__, "max_length": crypto.sealed_length(self.max_length)}
        return DictWrapper(parameters, connection.ops.quote_name, "qn_")

    def get_db_converters(self, connection):
        converters = super().get_db_converters(connection)
        if crypto.enabled() or crypto.keys_configured():
            return [*converters, self._open_from_db]
        return converters

    def _open_from_db(self, value, expression, connection):
        return crypto.unseal(value, self.context) if crypto.is_sealed(value) else value

    def get_db_prep_save(self, value, connection):
        value = super().get_db_prep_save(value, connection)
        if isinstance(value, str) and value and crypto.enabled() and not crypto.is_sealed(value):
            return crypto.seal(value, self.context)
        return value


class DigestField(models.CharField):
    """The keyed SM3 digest (HMAC-SM3) of another field's value, to find it by exact
    value while that field is sealed. Written by every save and bulk_create, and by
    update() and bulk_update() of a `DigestQuerySet`; NULL while the switch is off or
    the value blank."""

    def __init__(self, *args, source, **kwargs):
        self.source = source
        kwargs.setdefault("max_length", 64)
        kwargs.setdefault("null", True)
        kwargs.setdefault("blank", True)
        kwargs.setdefault("editable", False)
        super().__init__(*args, **kwargs)

    def deconstruct(self):
        name, path, args, kwargs = super().deconstruct()
        return name, path, args, {**kwargs, "source": self.source}

    def digest_of(self, value):
        if hasattr(value, "resolve_expression"):
            raise FieldError(f"{self.source} is digested in Python: give it a value.")
        if not value or not crypto.enabled():
            return None
        return crypto.digest(value, self.model._meta.get_field(self.source).context)

    def pre_save(self, model_instance, add):
        value = self.digest_of(getattr(model_instance, self.source))
        setattr(model_instance, self.attname, value)
        return value


def _digest_fields(model):
    return [f for f in model._meta.concrete_fields if isinstance(f, DigestField)]


class DigestQuerySet(models.QuerySet):
    """Keeps digest columns in step with their sources in update() and bulk_update(),
    which, unlike save, never call a field's pre_save."""

    def update(self, **kwargs):
        if crypto.enabled():
            for field in _digest_fields(self.model):
                if field.source in kwargs and field.name not in kwargs:
                    kwargs[field.name] = field.digest_of(kwargs[field.source])
        return super().update(**kwargs)

    def bulk_update(self, objs, fields, batch_size=None):
        objs, fields = tuple(objs), list(fields)
        if crypto.enabled():
            for field in _digest_fields(self.model):
                if field.source in fields and field.name not in fields:
                    for obj in objs:
                        setattr(obj, field.attname, field.digest_of(getattr(obj, field.source)))
                    fields.append(field.name)
        return super().bulk_update(objs, fields, batch_size=batch_size)


def with_digests(model, update_fields):
    """`update_fields` for Model.save, with the digest of any sealed field in it."""
    if update_fields is None:
        return None
    names = set(update_fields)
    return names | {f.name for f in _digest_fields(model) if f.source in names}


# --- Lookups ---------------------------------------------------------------------------


def _sealed_column(lookup):
    """The lookup's column when it compares a sealed field by value with the switch on."""
    column = lookup.lhs
    if not (
        crypto.enabled()
        and isinstance(column, Col)
        and isinstance(column.target, EncryptedCharField)
        and not hasattr(lookup.rhs, "resolve_expression")
    ):
        return None
    if column.target.digest_field is None:
        raise FieldError(f"{column.target.context} is sealed and has no DigestField to look it up.")
    return column


def _never_null(lookup):
    """`lookup` on a digest column, false rather than NULL where the digest is NULL: the
    sealed field itself is NOT NULL, so `exclude()` adds no `IS NULL` case for it."""
    return WhereNode([lookup, lookups.IsNull(lookup.lhs, False)], connector=AND)


@EncryptedCharField.register_lookup
class SealedExact(lookups.Exact):
    def as_sql(self, compiler, connection):
        column = _sealed_column(self)
        if column is None or self.rhs == "":
            return super().as_sql(compiler, connection)
        digest = column.target.digest_field
        by_digest = lookups.Exact(Col(column.alias, digest), digest.digest_of(self.rhs))
        return compiler.compile(_never_null(by_digest))


@EncryptedCharField.register_lookup
class SealedIn(lookups.In):
    def as_sql(self, compiler, connection):
        column = _sealed_column(self)
        if column is None:
            return super().as_sql(compiler, connection)
        digest = column.target.digest_field
        values = [value for value in self.rhs if value]
        conditions = []
        if values:
            digests = [digest.digest_of(value) for value in values]
            conditions.append(_never_null(lookups.In(Col(column.alias, digest), digests)))
        if len(values) < len(self.rhs):  # a blank value is stored as it is
            conditions.append(lookups.Exact(column, ""))
        if not conditions:
            return super().as_sql(compiler, connection)  # raises EmptyResultSet
        return compiler.compile(WhereNode(conditions, connector=OR))


class _RefusedWhileSealed:
    def as_sql(self, compiler, connection):
        if _sealed_column(self) is not None:
            raise FieldError(
                f"{self.lhs.target.context} is sealed: only exact and __in lookups find it."
            )
        return super().as_sql(compiler, connection)


for _lookup in (
    lookups.IExact,
    lookups.Contains,
    lookups.IContains,
    lookups.StartsWith,
    lookups.IStartsWith,
    lookups.EndsWith,
    lookups.IEndsWith,
    lookups.Regex,
    lookups.IRegex,
    lookups.GreaterThan,
    lookups.GreaterThanOrEqual,
    lookups.LessThan,
    lookups.LessThanOrEqual,
    lookups.Range,
):
    EncryptedCharField.register_lookup(
        type(f"Sealed{_lookup.__name__}", (_RefusedWhileSealed, _lookup), {})
    )


@EncryptedCharField.register_lookup
class Stored(Transform):
    """`field__stored`: the column as stored, sealed or plain, for the key commands."""

    lookup_name = "stored"
    output_field = models.CharField()

    def as_sql(self, compiler, connection):
        return compiler.compile(self.lhs)


# --- Sealing, rotating and opening what is stored ------------------------------------------


def sealed_fields():
    """(model, field) for every EncryptedCharField of the installed apps."""
    return [
        (model, field)
        for model in apps.get_models()
        for field in model._meta.concrete_fields
        if isinstance(field, EncryptedCharField)
    ]


def seal_plain_values(model, field, batch_size=BATCH):
    """Seal the values stored in plain text (written before the switch was on, or while
    it was off) with the current key, and write their digests."""
    if not crypto.enabled():
        raise ImproperlyConfigured("Turn XUEFA_SM_CRYPTO on before sealing stored values.")
    stored = f"{field.name}__stored"
    plain = ~Q(**{f"{stored}__startswith": f"{crypto.MARKER}:"}) & ~Q(**{stored: ""})
    return _rewrite(
        model, field, plain, lambda value: crypto.seal(value, field.context), batch_size
    )


def reseal_with_current_key(model, field, batch_size=BATCH):
    """Seal again with the current key every value sealed with an older one. Digests
    stay: they depend on the value and the digest key, not on the SM4 key."""
    stored = f"{field.name}__stored"
    old = Q(**{f"{stored}__startswith": f"{crypto.MARKER}:"}) & ~Q(
        **{f"{stored}__startswith": f"{crypto.MARKER}:{crypto.keyring().current}:"}
    )
    return _rewrite(
        model,
        field,
        old,
        lambda value: crypto.seal(value, field.context),
        batch_size,
        digests=False,
    )


def refresh_digests(model, field, batch_size=BATCH):
    """Write every non-blank value's digest again (after XUEFA_SM3_DIGEST_KEY changed)."""
    if not crypto.enabled():
        raise ImproperlyConfigured("Turn XUEFA_SM_CRYPTO on before writing digests.")
    return _rewrite(model, field, ~Q(**{f"{field.name}__stored": ""}), None, batch_size)


def open_sealed_values(model, field, batch_size=BATCH):
    """Store sealed values in plain text again and clear their digests, to turn the
    switch off for good (it must already be off, or they would be sealed again)."""
    if crypto.enabled():
        raise ImproperlyConfigured("Turn XUEFA_SM_CRYPTO off before opening stored values.")
    sealed = Q(**{f"{field.name}__stored__startswith": f"{crypto.MARKER}:"})
    return _rewrite(model, field, sealed, lambda value: value, batch_size)


def _rewrite(model, field, condition, new_value, batch_size, digests=True):
    """Rewrite, a batch at a time with the rows locked, the values `condition` picks:
    `new_value(plain text)` is stored (`None`: the value stays) and, with `digests`,
    the digest recomputed (NULL while the switch is off). Returns how many rows."""
    digest = field.digest_field if digests else None
    names = ([field.name] if new_value else []) + ([digest.name] if digest else [])
    if not names:
        return 0
    rows = model._base_manager.filter(condition).order_by("pk")
    database = router.db_for_write(model)
    count, last = 0, None
    while True:
        with transaction.atomic(using=database):
            batch = rows if last is None else rows.filter(pk__gt=last)
            batch = list(batch.select_for_update().values_list("pk", field.name)[:batch_size])
            if not batch:
                return count
            objs = []
            for pk, value in batch:
                obj = model(pk=pk)
                if new_value:
                    setattr(obj, field.attname, new_value(value))
                if digest:
                    setattr(obj, digest.attname, digest.digest_of(value))
                objs.append(obj)
            model._base_manager.bulk_update(objs, names)
        count += len(batch)
        last = batch[-1][0]
