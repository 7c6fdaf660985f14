"""The demo 保密明白纸 from the seed document: the district office "制作保密相关规定
'明白纸'，做到人人知晓、人人遵守". For all staff, in force from thirty days before the
load day for a year, with three check questions; a few generated officials have
confirmed it (so the report shows a partial share), the demo accounts have not.

Idempotent: the index and the sheet are looked up by slug, receipts by official."""

import datetime

from django.utils import timezone

from wagtail.models import Site

from ..demo import DEMO_ACCOUNTS
from ..models import LawTopic, Official
from ..models.study import Audience
from . import receipts
from .models import BriefingIndexPage, BriefingQuestion, BriefingReceipt, BriefingSheetPage

SLUG = "secrecy"
POINTS = [
    "涉密文件不得私自复制、摘抄，确需复制须经批准并登记",
    "不得用微信、QQ、电子邮箱等传递、存储涉密信息",
    "涉密计算机不得连接互联网，不得使用私人U盘",
    "涉密文件随用随锁，离开办公室须清理桌面",
    "不在私人交往和通信中涉及国家秘密",
    "发现泄密隐患，立即报告本单位保密工作机构",
]
BODY = (
    "<p>《中华人民共和国保密法》规定，国家机关工作人员应当遵守保密纪律，"
    "保守国家秘密是每一名公职人员的法定义务。区政府办公室在全体会上传达各级保密要求，"
    "观看保密警示教育片，并制作本“明白纸”，做到<b>人人知晓、人人遵守、人人推动</b>。</p>"
    "<p>日常工作中最常见的泄密风险来自手机和网络：一张照片、一条微信、一个私人U盘，"
    "都可能让涉密信息离开可控范围。请对照下列要点自查。</p>"
)
QUESTIONS = [
    (
        "需要把一份涉密文件发给外单位同事，以下做法正确的是：",
        ("拍照后用微信发送", "通过机要渠道传递", "发到对方私人邮箱"),
        "B",
        "涉密信息不得通过微信、互联网邮箱等传递，应通过机要渠道。",
    ),
    (
        "涉密计算机可以连接互联网吗？",
        ("可以，只要装了杀毒软件", "不可以"),
        "B",
        "涉密计算机严禁连接互联网及其他公共信息网络。",
    ),
    (
        "发现同事把涉密文件放在无人的办公桌上，应当：",
        ("不关我的事", "拍照提醒他", "提醒收好，必要时报告保密工作机构"),
        "C",
        "发现泄密隐患应及时提醒并报告本单位保密工作机构。",
    ),
]
CONFIRMED_COUNT = 12


def briefing_index():
    """/briefings/ under the site's home page."""
    home = Site.objects.get(is_default_site=True).root_page.specific
    index = BriefingIndexPage.objects.child_of(home).first()
    if index is None:
        index = BriefingIndexPage(
            title="明白纸", slug="briefings", intro="<p>需要阅读并确认的学法明白纸。</p>"
        )
        home.add_child(instance=index)
        index.save_revision().publish()
    return index


def secrecy_sheet():
    """The 保密明白纸, created and published once."""
    index = briefing_index()
    sheet = BriefingSheetPage.objects.child_of(index).filter(slug=SLUG).first()
    if sheet is not None:
        return sheet, False
    today = timezone.localdate()
    sheet = BriefingSheetPage(
        title="保密工作明白纸",
        slug=SLUG,
        topic=LawTopic.objects.filter(name="保密法").first(),
        points="\n".join(POINTS),
        body=BODY,
        audience=Audience.ALL,
        valid_from=today - datetime.timedelta(days=30),
        valid_to=today + datetime.timedelta(days=335),
        # Loading the demo announces nothing to the demo people.
        notified_at=timezone.now(),
    )
    sheet.questions = [
        BriefingQuestion(
            stem=stem,
            option_a=options[0],
            option_b=options[1],
            option_c=options[2] if len(options) > 2 else "",
            correct=correct,
            explanation=why,
            sort_order=n,
        )
        for n, (stem, options, correct, why) in enumerate(QUESTIONS)
    ]
    index.add_child(instance=sheet)
    sheet.save_revision().publish()
    return sheet, True


def load_briefing():
    """The sheet, and receipts of a dozen generated officials (the first by staff
    number, demo accounts left out), their answers mostly right."""
    sheet, created = secrecy_sheet()
    readers = (
        Official.objects.active()
        .exclude(user__username__in=[account[0] for account in DEMO_ACCOUNTS])
        .select_related("user", "department")
        .order_by("staff_number")[:CONFIRMED_COUNT]
    )
    done = set(BriefingReceipt.objects.filter(sheet=sheet).values_list("official_id", flat=True))
    questions = list(sheet.questions.all())
    made = int(created)
    for n, official in enumerate(readers):
        if official.pk in done:
            continue
        answers = {f"q{q.pk}": q.correct for q in questions}
        if n % 4 == 3:  # every fourth reader got the first question wrong
            answers[f"q{questions[0].pk}"] = "A"
        receipts.confirm(sheet, official.user, answers, {"user_agent": "demo"})
        made += 1
    return made
