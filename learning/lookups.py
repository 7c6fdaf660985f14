"""`field__any_of=[...]`: membership in a long list of ids as one array.

`__in` with thousands of ids makes Django prepare, and the driver splice, one
placeholder per id: for a report over 50,000 officials that is seconds of CPU. On
PostgreSQL `= ANY('{1,2,3}'::bigint[])` sends the list as a single array literal (in
the statement, so that each list is planned for itself); SQLite
`IN (SELECT value FROM json_each(%s))`, one parameter; others `IN (...)`.

Django still walks a plain list element by element while building each query. Code
that asks many queries about the same ids (learning.completion.evaluate) wraps them
once in `IdArray`, which Django passes through as it is."""

from collections.abc import Sequence

from django.db import models
from django.db.models.lookups import In, Lookup


class IdArray(Sequence):
    """Integer ids, checked once, to use in many `__any_of` lookups. A read-only
    sequence (not a list or tuple, so that Django's query building leaves it whole)."""

    __slots__ = ("_ids", "_literal")

    def __init__(self, ids):
        self._ids = tuple(map(int, ids))
        self._literal = None

    def __getitem__(self, index):
        return self._ids[index]

    def __len__(self):
        return len(self._ids)

    def __iter__(self):
        return iter(self._ids)

    def __repr__(self):
        return f"IdArray({list(self._ids)!r})"

    @property
    def literal(self):
        """The ids as a PostgreSQL array literal: '{1,2,3}'."""
        if self._literal is None:
            self._literal = "{" + ",".join(map(str, self._ids)) + "}"
        return self._literal


class AnyOf(Lookup):
    lookup_name = "any_of"
    prepare_rhs = False

    def get_prep_lookup(self):
        return self.rhs if isinstance(self.rhs, IdArray) else IdArray(self.rhs)

    def as_sql(self, compiler, connection):
        if connection.vendor == "sqlite":
            # One JSON parameter however many ids: SQLite allows only so many
            # parameters in one statement (32,766 in common builds).
            lhs, lhs_params = self.process_lhs(compiler, connection)
            ids = "[" + ",".join(map(str, self.rhs)) + "]"
            sql = f"{lhs} IN (SELECT value FROM json_each(%s))"  # noqa: S608 - a column
            return sql, [*lhs_params, ids]
        if connection.vendor != "postgresql":
            return In(self.lhs, list(self.rhs)).as_sql(compiler, connection)
        lhs, lhs_params = self.process_lhs(compiler, connection)
        db_type = self.lhs.output_field.db_type(connection)
        # Written into the statement, not bound: the ids are checked integers, and a
        # statement prepared for one list (psycopg prepares what runs often, see
        # settings) would be planned once for any list, however long.
        sql = f"{lhs} = ANY('{self.rhs.literal}'::{db_type}[])"  # noqa: S608 - integers
        return sql, lhs_params


for field_class in (models.ForeignKey, models.AutoField, models.BigAutoField, models.IntegerField):
    field_class.register_lookup(AnyOf)
