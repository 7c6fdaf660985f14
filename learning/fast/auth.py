"""The signed-in user, loaded by one plain SELECT.

Authentication loads the signed-in user on every request (the backend's
`get_user`), and the ORM takes several times longer to build
`User.objects.get(pk=…)` than the database takes to answer it. These backends are
Django's and allauth's, with `get_user` running the same SELECT of the same columns
as plain SQL and converting the values as the ORM converts them; the SQL is built
once per model and database connection alias (it depends only on the code).
Signing in, permissions and everything else are theirs."""

from django.contrib.auth import backends, get_user_model
from django.db import connections, router

from allauth.account import auth_backends

from . import enabled

_BY_PK = {}  # (model, alias) -> (sql, attribute names, converters)


def _select_by_pk(model, connection):
    """The SELECT, the field names and the ORM's converters per column."""
    cached = _BY_PK.get((model, connection.alias))
    if cached is None:
        meta = model._meta
        quote = connection.ops.quote_name
        fields = meta.concrete_fields
        sql = "SELECT {} FROM {} WHERE {} = %s".format(  # noqa: S608 - names only
            ", ".join(quote(f.column) for f in fields),
            quote(meta.db_table),
            quote(meta.pk.column),
        )
        converters = []
        for index, field in enumerate(fields):
            column = field.get_col(meta.db_table)
            functions = connection.ops.get_db_converters(column)
            functions += column.get_db_converters(connection)
            if functions:
                converters.append((index, column, functions))
        cached = _BY_PK[model, connection.alias] = (sql, [f.attname for f in fields], converters)
    return cached


def load_user(user_id):
    """The user with this primary key, or None, as `User.objects.get(pk=…)` gives it."""
    model = get_user_model()
    using = router.db_for_read(model)
    connection = connections[using]
    sql, names, converters = _select_by_pk(model, connection)
    with connection.cursor() as cursor:
        cursor.execute(sql, [user_id])
        row = cursor.fetchone()
    if row is None:
        return None
    if converters:
        row = list(row)
        for index, column, functions in converters:
            for function in functions:
                row[index] = function(row[index], column, connection)
    return model.from_db(using, names, row)


class FastGetUser:
    def get_user(self, user_id):
        if not enabled() or type(user_id) is not int or not -(2**63) <= user_id < 2**63:
            return super().get_user(user_id)
        user = load_user(user_id)
        return user if self.user_can_authenticate(user) else None


class ModelBackend(FastGetUser, backends.ModelBackend):
    """django.contrib.auth.backends.ModelBackend with a fast get_user."""


class AuthenticationBackend(FastGetUser, auth_backends.AuthenticationBackend):
    """allauth's backend with a fast get_user."""
