import pytest

from .factories import lecture_index, make_lecture


@pytest.fixture
def index(db):
    return lecture_index()


@pytest.fixture
def lecture(index):
    return make_lecture("保密法专题讲座", parent=index, credit_minutes=10)
