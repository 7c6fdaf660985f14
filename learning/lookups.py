"""`field__any_of=[...]`: membership in a long list of ids as one array parameter.

`__in` with thousands of ids makes Django prepare, and the driver splice, one
placeholder per id: for a report over 50,000 officials that is seconds of CPU. On
PostgreSQL `= ANY(%s)` sends the list as a single array; other databases get the
ordinary `IN (...)`."""

from django.db import models
from django.db.models.lookups import In, Lookup


class AnyOf(Lookup):
    lookup_name = "any_of"
    prepare_rhs = False

    def get_prep_lookup(self):
        return [int(value) for value in self.rhs]

    def as_sql(self, compiler, connection):
        if connection.vendor != "postgresql":
            return In(self.lhs, self.rhs).as_sql(compiler, connection)
        lhs, lhs_params = self.process_lhs(compiler, connection)
        return f"{lhs} = ANY(%s)", [*lhs_params, self.rhs]


for field_class in (models.ForeignKey, models.AutoField, models.BigAutoField, models.IntegerField):
    field_class.register_lookup(AnyOf)
