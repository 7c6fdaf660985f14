"""Building 明白纸 for tests: the index under the home page and sheets with questions."""

import datetime

from django.utils import timezone

from wagtail.models import Site

from learning.briefings.models import BriefingIndexPage, BriefingQuestion, BriefingSheetPage
from learning.models.study import Audience

_counter = iter(range(1, 10**9))

QUESTIONS = [
    ("涉密文件可以用微信传递吗？", ("可以", "不可以"), "B", "微信不得传递涉密信息。"),
    ("涉密计算机可以上网吗？", ("可以", "不可以", "看情况"), "B", "严禁连接互联网。"),
    ("发现泄密隐患应当：", ("不管", "报告", "拍照", "转发"), "B", "及时报告保密工作机构。"),
]


def briefing_index():
    existing = BriefingIndexPage.objects.first()
    if existing is not None:
        return existing
    home = Site.objects.get(is_default_site=True).root_page
    index = BriefingIndexPage(title="明白纸", slug="briefings")
    home.add_child(instance=index)
    return index


def make_sheet(
    title="保密明白纸",
    *,
    audience=Audience.ALL,
    departments=(),
    valid_from=None,
    valid_to=None,
    publish=True,
    questions=QUESTIONS,
    **kwargs,
):
    """A sheet under the index (published unless told otherwise), in force from
    yesterday for a month unless dates are given."""
    today = timezone.localdate()
    n = next(_counter)
    sheet = BriefingSheetPage(
        title=title,
        slug=kwargs.pop("slug", f"sheet-{n}"),
        points=kwargs.pop("points", "涉密文件不得私自复制\n不得用微信传递涉密信息"),
        audience=audience,
        valid_from=valid_from or today - datetime.timedelta(days=1),
        valid_to=valid_to if valid_to is not None else today + datetime.timedelta(days=30),
        live=False,
        **kwargs,
    )
    sheet.departments = list(departments)
    sheet.questions = [
        BriefingQuestion(
            stem=stem,
            option_a=options[0],
            option_b=options[1],
            option_c=options[2] if len(options) > 2 else "",
            option_d=options[3] if len(options) > 3 else "",
            correct=correct,
            explanation=why,
            sort_order=i,
        )
        for i, (stem, options, correct, why) in enumerate(questions)
    ]
    briefing_index().add_child(instance=sheet)
    if publish:
        sheet.save_revision().publish()
        sheet.refresh_from_db()
    return sheet


def right_answers(sheet, wrong=()):
    """POST data answering every question right, but those at the indexes in `wrong`
    (answered with another option)."""
    data = {}
    for i, question in enumerate(sheet.questions.order_by("sort_order")):
        letters = [letter for letter, _text in question.options]
        other = next(letter for letter in letters if letter != question.correct)
        data[f"q{question.pk}"] = other if i in wrong else question.correct
    return data
