"""Demo learning content from the seed document (2020 report of the Binhai district
government office): the law topics it names, the lectures at the district executive
meeting (重大行政决策程序 by 付士成, 民法典 by 陈耀东), the district head's rule-of-law
lesson, the Secrecy Law study with its warning film and 明白纸, study plans for 2020
and this year, collective study sessions, and some officials' progress.

Every loader is idempotent: it looks things up by natural keys and only adds what
is missing."""

import copy
import datetime
import random

from django.core.files.base import ContentFile
from django.utils import timezone

from wagtail.documents import get_document_model
from wagtail.models import Site

from .models import (
    CollectiveStudySession,
    Department,
    LawTopic,
    LectureIndexPage,
    LecturePage,
    LectureSeriesPage,
    Official,
    Speaker,
    StudyPlan,
    StudyRecord,
)
from .models.study import Audience, Meeting

TOPICS = [
    ("民法典", "civil-code"),
    ("保密法", "secrecy-law"),
    ("宪法", "constitution"),
    ("监察法", "supervision-law"),
    ("行政许可法", "administrative-licensing-law"),
    ("行政处罚法", "administrative-penalty-law"),
    ("安全生产法", "work-safety-law"),
    ("土地管理法", "land-administration-law"),
    ("环境保护法", "environmental-protection-law"),
    ("统计法", "statistics-law"),
    ("公共图书馆法", "public-library-law"),
    ("公共文化服务保障法", "public-cultural-services-law"),
    ("天津市文明行为促进条例", "tianjin-civility-regulation"),
    ("党内法规", "party-regulations"),
]

# name, title, affiliation
SPEAKERS = [
    ("付士成", "教授", "南开大学法学院"),
    ("陈耀东", "教授", "南开大学法学院"),
    ("区政府主要负责同志", "区长", "滨海新区人民政府"),
    ("区司法局法治宣传科", "", "滨海新区司法局"),
]

EXECUTIVE_MEETING = "区政府常务会"
SECRECY_LEAFLET = """保密相关规定“明白纸”

一、国家秘密是关系国家安全和利益，依照法定程序确定，在一定时间内只限一定范围的人员知悉的事项。
二、涉密计算机和涉密存储设备不得接入互联网及其他公共信息网络。
三、不在非涉密计算机、普通手机和即时通信工具中存储、处理、传输国家秘密。
四、涉密文件资料按规定登记、传阅、保管和销毁，不私自复制、摘抄、带回家中。
五、发现泄密隐患或泄密事件，立即报告机关保密工作机构。
人人知晓、人人遵守、人人推动。
"""


THIS_YEAR = None  # the year of a date in LECTURES and STUDY_SESSIONS: the current one


def _para(*lines):
    return ("paragraph", "".join(f"<p>{line}</p>" for line in lines))


def _article(text, citation):
    return ("law_article", {"text": text, "citation": citation})


def _this_year():
    return timezone.localdate().year


# The demo lectures: slug, title, series slug (None: directly under the index),
# speakers, topics, occasion, date as (year, month, day), credit minutes, summary
# and body. THIS_YEAR in a date stands for the year the demo is loaded.
LECTURES = [
    (
        "major-administrative-decisions",
        "重大行政决策程序",
        None,
        ["付士成"],
        ["党内法规"],
        EXECUTIVE_MEETING,
        (2020, 7, 16),
        60,
        "南开大学法学院付士成教授在区政府常务会上为区政府领导班子和各单位、各部门主要"
        "负责同志讲授重大行政决策程序。",
        [
            ("heading", "一、为什么要规范重大行政决策"),
            _para(
                "重大行政决策事关经济社会发展全局和人民群众切身利益。凡提请区政府常务会、"
                "区长办公会决策的事项，必先经过法制部门进行合法性审查。"
            ),
            ("heading", "二、五项法定程序"),
            _para("公众参与、专家论证、风险评估、合法性审查、集体讨论决定。"),
        ],
    ),
    (
        "civil-code",
        "《民法典》专题讲座",
        "civil-code",
        ["陈耀东"],
        ["民法典"],
        EXECUTIVE_MEETING,
        (2020, 9, 10),
        60,
        "南开大学法学院陈耀东教授在区政府常务会上讲授《民法典》，解读总则编、物权编和"
        "合同编中与政府工作关系密切的规定。",
        [
            ("heading", "民法典的立法目的"),
            _article(
                "为了保护民事主体的合法权益，调整民事关系，维护社会和经济秩序，适应中国"
                "特色社会主义发展要求，弘扬社会主义核心价值观，根据宪法，制定本法。",
                "《中华人民共和国民法典》第一条",
            ),
            _para("各级行政机关要带头学习宣传民法典，依法履职，保护民事主体合法权益。"),
        ],
    ),
    (
        "civil-code-and-government",
        "民法典与行政机关依法履职",
        "civil-code",
        ["区司法局法治宣传科"],
        ["民法典"],
        "区政府办公室全体会",
        (THIS_YEAR, 3, 12),
        30,
        "结合政府采购、行政协议和信息公开工作，学习民法典对行政机关的要求。",
        [_para("行政机关订立、履行合同，同样要遵守民法典关于合同订立、效力和履行的规定。")],
    ),
    (
        "district-head-lesson",
        "区长讲法治课",
        None,
        ["区政府主要负责同志"],
        ["宪法", "党内法规"],
        EXECUTIVE_MEETING,
        (2020, 11, 26),
        45,
        "区政府主要负责同志带头学法、带头讲法，在区政府常务会上讲法治课。",
        [
            _para(
                "领导干部要做尊法学法守法用法的模范，把法律知识学习、法治思维养成和法治"
                "手段运用作为提升执政能力的重要方面。"
            ),
        ],
    ),
    (
        "secrecy-law",
        "学习贯彻《保密法》",
        None,
        ["区司法局法治宣传科"],
        ["保密法"],
        "区政府办公室全体会",
        (THIS_YEAR, 4, 15),
        30,
        "传达各级保密要求，观看保密警示教育片，学习保密相关规定“明白纸”。",
        [
            ("heading", "什么是国家秘密"),
            _article(
                "国家秘密是关系国家安全和利益，依照法定程序确定，在一定时间内只限一定范围"
                "的人员知悉的事项。",
                "《中华人民共和国保守国家秘密法》第二条",
            ),
            ("heading", "保密警示教育片"),
            _para(
                "区政府办公室全体会集体观看保密警示教育片，以案释法，对落实保密工作进行详细部署。"
            ),
            ("heading", "保密相关规定“明白纸”"),
            _para(*SECRECY_LEAFLET.strip().splitlines()[1:]),
        ],
    ),
    (
        "constitution",
        "学习宪法　维护宪法权威",
        None,
        ["区司法局法治宣传科"],
        ["宪法"],
        "区政府党组会",
        (THIS_YEAR, 2, 20),
        30,
        "学习宪法确立的国家根本制度和依法治国基本方略。",
        [
            _article(
                "中华人民共和国实行依法治国，建设社会主义法治国家。",
                "《中华人民共和国宪法》第五条第一款",
            ),
            _article("中华人民共和国的一切权力属于人民。", "《中华人民共和国宪法》第二条第一款"),
        ],
    ),
    (
        "administrative-penalty-law",
        "行政处罚法要点解读",
        None,
        ["区司法局法治宣传科"],
        ["行政处罚法"],
        EXECUTIVE_MEETING,
        (THIS_YEAR, 5, 21),
        40,
        "结合行政执法典型案例，解读行政处罚的设定、实施和程序。",
        [
            _article(
                "公民、法人或者其他组织违反行政管理秩序的行为，应当给予行政处罚的，依照本法"
                "由法律、法规、规章规定，并由行政机关依照本法规定的程序实施。",
                "《中华人民共和国行政处罚法》第四条",
            ),
            _para("区政府常务会每月听取执法统计情况汇报，通报分析行政执法典型案例。"),
        ],
    ),
    (
        "supervision-law",
        "监察法学习",
        None,
        ["区司法局法治宣传科"],
        ["监察法"],
        "区政府党组会",
        (2020, 6, 18),
        30,
        "学习监察法，强化对所有行使公权力的公职人员的监督。",
        [
            _article(
                "为了深化国家监察体制改革，加强对所有行使公权力的公职人员的监督，实现国家"
                "监察全面覆盖，深入开展反腐败工作，推进国家治理体系和治理能力现代化，根据"
                "宪法，制定本法。",
                "《中华人民共和国监察法》第一条",
            )
        ],
    ),
    (
        "administrative-licensing-law",
        "行政许可法专题学习",
        None,
        ["区司法局法治宣传科"],
        ["行政许可法"],
        EXECUTIVE_MEETING,
        (THIS_YEAR, 6, 11),
        30,
        "学习行政许可的设定和实施程序，推进“放管服”改革。",
        [_para("设定和实施行政许可，应当依照法定的权限、范围、条件和程序。")],
    ),
    (
        "work-safety-law",
        "安全生产法与应急管理",
        None,
        ["区司法局法治宣传科"],
        ["安全生产法"],
        EXECUTIVE_MEETING,
        (THIS_YEAR, 6, 25),
        30,
        "学习安全生产法和应急管理有关规定，压实安全生产责任。",
        [_para("安全生产工作坚持人民至上、生命至上，把保护人民生命安全摆在首位。")],
    ),
    (
        "land-and-environment",
        "土地管理法和环境保护法学习",
        None,
        ["区司法局法治宣传科"],
        ["土地管理法", "环境保护法"],
        "区政府党组会",
        (2020, 8, 20),
        30,
        "对土地管理、环境保护等有关法律法规进行专题学习。",
        [_para("依法用地、依法保护生态环境，是区政府依法行政的重要内容。")],
    ),
    (
        "statistics-law",
        "统计法专题学习",
        None,
        ["区司法局法治宣传科"],
        ["统计法"],
        "区政府党组会",
        (2020, 10, 15),
        20,
        "学习统计法，防范和惩治统计造假、弄虚作假。",
        [_para("各单位要依法提供真实、准确、完整的统计资料。")],
    ),
    (
        "public-culture-laws",
        "公共图书馆法与公共文化服务保障法",
        None,
        ["区司法局法治宣传科"],
        ["公共图书馆法", "公共文化服务保障法"],
        "区政府党组会",
        (2020, 12, 10),
        20,
        "学习公共文化领域的两部法律，推进公共文化服务体系建设。",
        [_para("公共文化服务应当坚持公益性、基本性、均等性、便利性。")],
    ),
    (
        "tianjin-civility-regulation",
        "天津市文明行为促进条例",
        None,
        ["区司法局法治宣传科"],
        ["天津市文明行为促进条例"],
        "区政府办公室全体会",
        (THIS_YEAR, 7, 9),
        20,
        "落实天津市文明行为促进条例，加强控烟管理，做好机关文明建设。",
        [_para("在机关各处以多种形式宣传文明行为规范，人人争做文明使者。")],
    ),
]


def _dated(when, year):
    """The date a (year, month, day) of the demo data stands for in `year`."""
    day_year, month, day = when
    return datetime.date(year if day_year is THIS_YEAR else day_year, month, day)


def _lectures(year):
    """slug, title, series?, speakers, topics, occasion, date, minutes, summary, body
    of each of LECTURES, dated in `year`; a copy, so that loading them cannot change
    the module's data."""
    return copy.deepcopy(
        [(*lecture[:6], _dated(lecture[6], year), *lecture[7:]) for lecture in LECTURES]
    )


def load_topics_and_speakers():
    created = 0
    for order, (name, slug) in enumerate(TOPICS, start=1):
        _topic, was_created = LawTopic.objects.get_or_create(
            name=name, defaults={"slug": slug, "sort_order": order * 10}
        )
        created += was_created
    for name, title, affiliation in SPEAKERS:
        _speaker, was_created = Speaker.objects.get_or_create(
            name=name, affiliation=affiliation, defaults={"title": title}
        )
        created += was_created
    return created


def lecture_index():
    """The lecture index at /lectures/ under the site's home page."""
    home = Site.objects.get(is_default_site=True).root_page.specific
    index = LectureIndexPage.objects.child_of(home).first()
    if index is None:
        index = LectureIndexPage(
            title="学法课堂",
            slug="lectures",
            intro="<p>区政府常务会法律专家讲座、领导干部讲法治课和专题学法资料。</p>",
        )
        home.add_child(instance=index)
        index.save_revision().publish()
    return index


def _series(index):
    series = LectureSeriesPage.objects.child_of(index).filter(slug="civil-code").first()
    if series is None:
        series = LectureSeriesPage(
            title="民法典专题",
            slug="civil-code",
            intro="<p>《民法典》专题学习：专家讲座与行政机关依法履职。</p>",
            topic=LawTopic.objects.get(name="民法典"),
        )
        index.add_child(instance=series)
        series.save_revision().publish()
    return series


def _leaflet():
    """The Secrecy Law 明白纸 as a downloadable document."""
    Document = get_document_model()
    document = Document.objects.filter(title="保密相关规定明白纸").first()
    if document is None:
        document = Document(title="保密相关规定明白纸")
        document.file.save(
            "baomi-mingbaizhi.txt", ContentFile(SECRECY_LEAFLET.encode()), save=False
        )
        document.save()
    return document


def load_lectures():
    index = lecture_index()
    parents = {None: index, "civil-code": _series(index)}
    topics = {t.name: t for t in LawTopic.objects.all()}
    speakers = {s.name: s for s in Speaker.objects.all()}
    created = 0
    for slug, title, series, who, about, occasion, date, minutes, summary, body in _lectures(
        _this_year()
    ):
        parent = parents[series]
        if LecturePage.objects.child_of(parent).filter(slug=slug).exists():
            continue
        if slug == "secrecy-law":
            body = [*body, ("document", {"document": _leaflet(), "title": "下载“明白纸”"})]
        lecture = LecturePage(
            title=title,
            slug=slug,
            occasion=occasion,
            date=date,
            credit_minutes=minutes,
            summary=summary,
            body=body,
        )
        lecture.topics = [topics[name] for name in about]
        lecture.speakers = [speakers[name] for name in who]
        parent.add_child(instance=lecture)
        lecture.save_revision().publish()
        parent.refresh_from_db()
        created += 1
    return created


def _lecture(slug):
    return LecturePage.objects.get(slug=slug)


def load_study_plans():
    year = _this_year()
    plans = [
        (
            2020,
            "2020年度学法计划",
            Audience.ALL,
            4,
            ["major-administrative-decisions", "civil-code"],
            [],
        ),
        (
            2020,
            "2020年度领导干部学法计划",
            Audience.LEADERS,
            8,
            ["major-administrative-decisions", "civil-code", "district-head-lesson"],
            [],
        ),
        (
            year,
            f"{year}年度学法计划",
            Audience.ALL,
            6,
            ["secrecy-law", "constitution"],
            ["civil-code"],
        ),
        (
            year,
            f"{year}年度领导干部学法计划",
            Audience.LEADERS,
            10,
            ["secrecy-law", "constitution", "administrative-penalty-law"],
            ["civil-code"],
        ),
    ]
    created = 0
    for plan_year, title, audience, hours, lectures, series in plans:
        if StudyPlan.objects.filter(year=plan_year, title=title).exists():
            continue
        plan = StudyPlan(
            year=plan_year, title=title, audience=audience, required_credit_hours=hours
        )
        plan.required_lectures = [_lecture(slug) for slug in lectures]
        plan.required_series = list(LectureSeriesPage.objects.filter(slug__in=series))
        plan.save()
        created += 1
    return created


# The demo collective study sessions: date as (year, month, day; THIS_YEAR: the
# year the demo is loaded), meeting, title, lecturer, lecture slug, credit minutes,
# topics, and whether the leaders attended (otherwise the office's whole staff).
STUDY_SESSIONS = [
    (
        (2020, 7, 16),
        Meeting.EXECUTIVE,
        "法律专家讲座：重大行政决策程序",
        "付士成",
        "major-administrative-decisions",
        60,
        ["党内法规"],
        True,
    ),
    (
        (2020, 9, 10),
        Meeting.EXECUTIVE,
        "法律专家讲座：《民法典》",
        "陈耀东",
        "civil-code",
        60,
        ["民法典"],
        True,
    ),
    (
        (2020, 11, 26),
        Meeting.EXECUTIVE,
        "区长讲法治课",
        "区政府主要负责同志",
        "district-head-lesson",
        45,
        ["宪法"],
        True,
    ),
    (
        (THIS_YEAR, 4, 15),
        Meeting.ALL_STAFF,
        "传达保密要求，观看保密警示教育片",
        "区司法局法治宣传科",
        "secrecy-law",
        45,
        ["保密法"],
        False,
    ),
    (
        (THIS_YEAR, 3, 5),
        Meeting.PARTY_GROUP,
        "学习党内法规：党组工作条例、纪律处分条例",
        None,
        None,
        60,
        ["党内法规"],
        True,
    ),
]


def load_study_sessions():
    year = _this_year()
    office = Department.objects.filter(name="区政府办公室").first()
    leaders = list(Official.objects.leaders())
    speakers = {s.name: s for s in Speaker.objects.all()}
    created = 0
    for (
        when,
        meeting,
        title,
        lecturer,
        lecture,
        minutes,
        topic_names,
        for_leaders,
    ) in STUDY_SESSIONS:
        date = _dated(when, year)
        if CollectiveStudySession.objects.filter(date=date, title=title).exists():
            continue
        session = CollectiveStudySession(
            date=date,
            meeting=meeting,
            title=title,
            lecturer=speakers.get(lecturer),
            lecture=_lecture(lecture) if lecture else None,
            credit_minutes=minutes,
        )
        session.topics = list(LawTopic.objects.filter(name__in=topic_names))
        if for_leaders:
            session.attendees = leaders
        elif office is not None:
            session.departments = [office]
        session.save()
        created += 1
    return created


def load_study_progress():
    """Partial progress this year for the demo official and about half of the others,
    so the record page and HR reports have something to show."""
    now = timezone.now()
    year_start = datetime.datetime(_this_year(), 1, 1, tzinfo=timezone.get_current_timezone())
    lectures = list(LecturePage.objects.live().filter(date__year=_this_year()).order_by("pk"))
    if not lectures:
        return 0
    rng = random.Random(2020)  # noqa: S311 - deterministic demo data, not security
    plan = {}
    demo = Official.objects.filter(user__username="official").first()
    if demo is not None:
        by_slug = {lecture.slug: lecture for lecture in lectures}
        plan[demo.pk] = [
            (by_slug.get("constitution"), 1.0),
            (by_slug.get("civil-code-and-government"), 0.5),
            (by_slug.get("administrative-penalty-law"), 0.25),
        ]
    for official in Official.objects.exclude(user__username="official").order_by("staff_number"):
        if rng.random() < 0.5:
            picks = rng.sample(lectures, k=min(len(lectures), rng.randint(1, 4)))
            plan[official.pk] = [(lecture, rng.choice([0.3, 0.6, 1.0])) for lecture in picks]
    created = 0
    for official_id, items in plan.items():
        for lecture, share in items:
            if lecture is None:
                continue
            seconds = int(lecture.credit_seconds * share)
            last = max(year_start + datetime.timedelta(hours=2), now - datetime.timedelta(days=3))
            started = max(year_start, last - datetime.timedelta(seconds=seconds))
            _record, was_created = StudyRecord.objects.get_or_create(
                official_id=official_id,
                lecture=lecture,
                defaults={
                    "credited_seconds": seconds,
                    "started_at": started,
                    "last_heartbeat_at": last,
                    "completed_at": last if share >= 1 else None,
                },
            )
            created += was_created
    return created
