"""Chinese search: lectures are indexed by character n-grams so that partial words
match (保密 finds 保密法, 民法 finds 民法典) on SQLite FTS5 and PostgreSQL alike."""

import pytest

from learning.models import LecturePage
from learning.models.lectures import cjk_ngrams, cjk_query, search_lectures

from .factories import make_lecture

pytestmark = pytest.mark.django_db


def test_ngrams_and_query_terms():
    assert cjk_ngrams("保密法") == "保 密 法 保密 密法"
    assert cjk_query("保密") == "保密"
    assert cjk_query("民法典") == "民法 法典"
    assert cjk_query("法") == "法"
    assert cjk_query("PPT 课件") == "课件 ppt"
    assert cjk_query("!!!") == ""


@pytest.fixture
def lectures(index):
    return {
        "secrecy": make_lecture(
            "保密法专题学习", parent=index, body=[("paragraph", "<p>观看保密警示教育片。</p>")]
        ),
        "civil": make_lecture("民法典讲座", parent=index, summary="陈耀东教授讲授物权编"),
        "decision": make_lecture(
            "重大行政决策程序",
            parent=index,
            body=[
                ("law_article", {"text": "决策应当经过合法性审查。", "citation": "条例第二十五条"})
            ],
        ),
        "draft": make_lecture("保密工作草稿", parent=index, live=False),
    }


def titles(results):
    return {lecture.title for lecture in results}


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        ("保密", {"保密法专题学习"}),
        ("民法", {"民法典讲座"}),
        ("民法典", {"民法典讲座"}),
        ("警示教育", {"保密法专题学习"}),  # in the body only
        ("物权", {"民法典讲座"}),  # in the summary only
        ("合法性审查", {"重大行政决策程序"}),  # in a law-article block
        ("决策 程序", {"重大行政决策程序"}),
        ("刑法", set()),
    ],
)
def test_search_finds_chinese_words_inside_longer_words(lectures, query, expected):
    assert titles(search_lectures(query)) == expected


def test_search_never_returns_drafts(lectures):
    assert "保密工作草稿" not in titles(search_lectures("保密工作"))


def test_search_text_follows_edits(lectures):
    lecture = LecturePage.objects.get(pk=lectures["civil"].pk)
    lecture.title = "宪法宣传周"
    lecture.save_revision().publish()
    assert titles(search_lectures("宪法")) == {"宪法宣传周"}
    assert titles(search_lectures("民法")) == set()


def test_search_page(official_client, lectures):
    response = official_client.get("/lectures/", {"q": "保密"})
    assert response.status_code == 200
    assert titles(response.context["lectures"]) == {"保密法专题学习"}
    assert official_client.get("/lectures/", {"q": "%%%"}).status_code == 200
