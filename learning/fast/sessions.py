"""Our session engine: Django's database sessions, read with one plain SELECT.

Sessions live in the database on purpose (see CACHES in settings/base.py): a Redis
outage signs nobody out and no signed-out session comes back from a stale cache.
Every signed-in request reads its session, and the ORM spends several times longer
building `Session.objects.get(session_key=…, expire_date__gt=now)` than the database
spends answering it (about 1 ms of CPU against 0.2 ms). This store runs the same
query as plain SQL; saving, creating, deleting and clearing are Django's. With the
fast paths off it is Django's store.
"""

from django.contrib.sessions.backends import db
from django.db import connections, router
from django.utils import timezone

from . import enabled


class SessionStore(db.SessionStore):
    def _get_session_from_db(self):
        if not enabled():
            return super()._get_session_from_db()
        model = self.model
        using = router.db_for_read(model)
        connection = connections[using]
        quote = connection.ops.quote_name
        fields = model._meta
        key = quote(fields.get_field("session_key").column)
        data = quote(fields.get_field("session_data").column)
        expire = quote(fields.get_field("expire_date").column)
        sql = (
            f"SELECT {data} FROM {quote(fields.db_table)} "  # noqa: S608 - names only
            f"WHERE {key} = %s AND {expire} > %s"
        )
        now = connection.ops.adapt_datetimefield_value(timezone.now())
        with connection.cursor() as cursor:
            cursor.execute(sql, [self.session_key, now])
            row = cursor.fetchone()
        if row is None:
            # As Django's store: an unknown or expired key is forgotten, and a new
            # session gets a new key.
            self._session_key = None
            return None
        return model(session_key=self.session_key, session_data=row[0])
