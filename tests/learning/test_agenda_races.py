"""Two organizers record the same agenda item as held at the same moment: one
collective-study record is made, and both are led to it (PostgreSQL only: SQLite
serialises writers)."""

import threading

from django.db import connection

import pytest

from learning import agenda
from learning.models import AgendaItem, CollectiveStudySession
from tests.factories import AgendaItemFactory


@pytest.mark.django_db(transaction=True, serialized_rollback=True)
def test_concurrent_records_of_one_item_make_one_record():
    if connection.vendor == "sqlite":
        pytest.skip("SQLite serialises writers; this race needs PostgreSQL (DATABASE_URL)")
    item = AgendaItemFactory(title="法律专家讲座：《民法典》")
    barrier = threading.Barrier(4)
    results = []

    def organizer():
        try:
            barrier.wait()
            mine = AgendaItem.objects.get(pk=item.pk)
            recorded = agenda.record_held(mine)
            results.append((recorded.created, recorded.session.pk))
        finally:
            connection.close()

    threads = [threading.Thread(target=organizer) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sorted(created for created, _pk in results) == [False, False, False, True]
    assert len({pk for _created, pk in results}) == 1
    assert CollectiveStudySession.objects.count() == 1
    item.refresh_from_db()
    assert item.session_id == results[0][1]
