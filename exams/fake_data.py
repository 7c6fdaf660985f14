"""Sized fake data: an organisation of officials and a year of their study, exams
and attendance, made with bulk inserts of BATCH_SIZE rows. `FakeData(year, seed).build(n)`
makes all of it (the `create_fake_data --officials N` command); the benches use the
parts they need (bench/exam_db.py its officials, bench/imports.py the organisation).

The whole: a district of about 40 bureaus with offices, N officials (accounts with an
unusable password: nobody signs in as them, and no password is hashed, which keeps
50,000 accounts fast), a study plan for the year if there is none, a few lectures if
none are live, a year of study records, collective study sessions with attendance, an
annual exam with graded attempts (scores spread over the bands), and what other apps
add through the `register_fake_data` Wagtail hook: each returns [(label, function)],
called as `function(people, start=, end=, rng=, batch_size=)` and returning how many
rows it made (court observations with attendance, from exams.observations).
"""

import datetime
import functools
import random
import time
from decimal import Decimal

from django.contrib.auth.hashers import UNUSABLE_PASSWORD_PREFIX
from django.contrib.auth.models import Group
from django.db import connection, transaction
from django.utils import timezone

from wagtail import hooks
from wagtail.models import Page, Site

from exams.models import (
    Attempt,
    AttemptState,
    Band,
    ExamSession,
    Paper,
    PaperMode,
    PlanExam,
    SessionKind,
)
from learning import roles
from learning.models import (
    CollectiveStudySession,
    Department,
    LectureIndexPage,
    LecturePage,
    Official,
    SessionAttendance,
    StudyPlan,
    StudyRecord,
    User,
)

BATCH_SIZE = 2000
ROOT_NAME = "虚拟区人民政府"
USERNAME_PREFIX = "fake"
BUREAUS = [
    "司法局", "财政局", "发展和改革委员会", "教育局", "公安分局", "民政局",
    "人力资源和社会保障局", "自然资源局", "生态环境局", "住房和城乡建设局", "交通运输局",
    "水务局", "农业农村局", "商务局", "文化和旅游局", "卫生健康委员会", "退役军人事务局",
    "应急管理局", "审计局", "市场监督管理局", "统计局", "医疗保障局", "城市管理局",
    "信访局", "政务服务管理局", "体育局", "科学技术局", "工业和信息化局", "档案馆",
    "机关事务管理局", "国有资产监督管理委员会", "民族宗教事务局", "林业局",
    "粮食和物资储备局", "城关街道办事处", "东城街道办事处", "西城街道办事处",
    "南湖街道办事处", "北山镇人民政府", "临江镇人民政府",
]  # fmt: skip
OFFICES = ["办公室", "法制科", "人事科", "财务科", "综合科", "执法大队", "督查科", "政策研究室"]
SURNAMES = (
    "王李张刘陈杨黄赵吴周徐孙马朱胡郭何高林罗郑梁谢宋唐许韩冯邓曹彭曾肖田董袁潘于蒋蔡"
    "余杜叶程苏魏吕丁任沈姚卢姜崔钟谭陆汪范金石廖贾夏韦付方白邹孟熊秦邱江尹薛闫段雷侯"
    "龙史陶黎贺顾毛郝龚邵万钱严覃武戴莫孔向汤"
)
GIVEN = (
    "伟芳娜秀英敏静丽强磊军洋勇艳杰娟涛明超秀兰霞平刚桂英华建国志红玉兰文辉鹏飞斌宇浩"
    "凯健俊帆帅旭宁龙林欣怡佳琪雪梅海燕晓东春晖立新振华思远若曦嘉怡子涵"
)
POSITIONS = [("科员", "一级科员"), ("副科长", "四级主任科员"), ("科长", "二级主任科员"),
             ("副局长", "副处级"), ("局长", "正处级"), ("办事员", "二级科员")]  # fmt: skip
LECTURE_TITLES = [
    "宪法学习专题", "民法典婚姻家庭编解读", "行政复议法修订要点", "行政处罚法实务",
    "政府信息公开条例", "优化营商环境条例", "安全生产法解读", "保守国家秘密法",
]  # fmt: skip


def _batches(items, size=BATCH_SIZE):
    for start in range(0, len(items), size):
        yield items[start : start + size]


def create_officials(users, official_for, *, batch_size=BATCH_SIZE):
    """Save `users` (unsaved User instances) in bulk, put them in the Official group and
    save official_for(number, user) for each (number counts from 1), all with one
    INSERT per batch of rows; returns the Officials."""
    for batch in _batches(users, batch_size):
        User.objects.bulk_create(batch)  # sets each pk (RETURNING on PostgreSQL, SQLite)
    group, _created = Group.objects.get_or_create(name=roles.OFFICIAL)
    through = User.groups.through
    links = [through(user_id=user.pk, group_id=group.pk) for user in users]
    for batch in _batches(links, batch_size):
        through.objects.bulk_create(batch)
    people = [official_for(number, user) for number, user in enumerate(users, start=1)]
    for batch in _batches(people, batch_size):
        Official.objects.bulk_create(batch)
    return people


class FakeData:
    """The builder: `year` (default this year) is the year of study made; `seed` makes
    the same data again; `log`, when given, is called with each step's timing."""

    def __init__(self, year=None, seed=1, log=None):
        self.log = log
        self.random = random.Random(seed)  # noqa: S311 - fake data, not secrets
        self.year = year or timezone.localdate().year
        tz = timezone.get_current_timezone()
        self.start = datetime.datetime(self.year, 1, 1, 8, tzinfo=tz)
        end = datetime.datetime(self.year, 12, 31, 18, tzinfo=tz)
        self.end = min(end, timezone.now()) if timezone.now() > self.start else end

    def build(self, officials):
        """All of it, for `officials` officials, in one transaction; a sentence saying
        what was made."""
        with transaction.atomic():
            offices = self.step("departments", self.departments)
            people = self.step("officials", self.officials, officials, offices)
            lectures = self.step("lectures", self.lectures)
            session = self.exam()
            plans = self.plans(lectures, session)
            records = self.step("study records", self.study_records, people, lectures)
            attendance = self.step("collective study", self.collective_sessions, offices, lectures)
            attempts = self.step("exam attempts", self.attempts, people, session)
            made = [
                f"{len(offices)} offices",
                f"{len(people)} officials",
                f"{records} study records",
                f"{attendance} session attendances",
                f"{attempts} exam attempts",
            ]
            for label, function in self.registered_steps():
                made.append(f"{self.step(label, function, people)} {label}")
        return f"Created {', '.join(made)} for {self.year}; study plans: {plans}."

    def registered_steps(self):
        """(label, function of the officials) for each step another app registers."""
        options = {"start": self.start, "end": self.end, "rng": self.random}
        for hook in hooks.get_hooks("register_fake_data"):
            for label, function in hook():
                yield label, functools.partial(function, batch_size=BATCH_SIZE, **options)

    def step(self, label, function, *args):
        started, cpu = time.perf_counter(), time.process_time()
        result = function(*args)
        if self.log is not None:
            wall, cpu = time.perf_counter() - started, time.process_time() - cpu
            self.log(f"  {label}: {wall:.1f} s ({cpu:.1f} s CPU in this process)")
        return result

    def when(self):
        """A random moment of the year (up to now for the current year)."""
        span = (self.end - self.start).total_seconds()
        return self.start + datetime.timedelta(seconds=self.random.uniform(0, max(span, 3600)))

    def departments(self):
        """The root, ~40 bureaus and 2–6 offices each, with materialised paths computed
        here (treebeard's add_child would cost a few queries per department)."""
        root = Department.add_root(name=ROOT_NAME)
        bureaus = []
        for index, name in enumerate(sorted(BUREAUS), start=1):
            path = Department._get_path(root.path, 2, index)
            bureaus.append(Department(name=name, path=path, depth=2, numchild=0))
        offices = []
        for bureau in bureaus:
            names = sorted(self.random.sample(OFFICES, self.random.randint(2, 6)))
            bureau.numchild = len(names)
            for index, name in enumerate(names, start=1):
                path = Department._get_path(bureau.path, 3, index)
                offices.append(Department(name=name, path=path, depth=3, numchild=0))
        Department.objects.bulk_create(bureaus + offices, batch_size=BATCH_SIZE)
        Department.objects.filter(pk=root.pk).update(numchild=len(bureaus))
        return list(Department.objects.filter(depth=3, path__startswith=root.path))

    def officials(self, count, offices):
        """`count` officials named fake000001…, each in one of `offices`, with a made-up
        name, position and rank; heads and deputy heads, and a few others, are leaders."""
        now = timezone.now()
        users = [
            User(
                username=f"{USERNAME_PREFIX}{n:06d}",
                name=self.random.choice(SURNAMES)
                + "".join(self.random.choices(GIVEN, k=self.random.choice((1, 2)))),
                password=UNUSABLE_PASSWORD_PREFIX + "fake-data",
                date_joined=now,
            )
            for n in range(1, count + 1)
        ]

        def official(number, user):
            position, rank = self.random.choice(POSITIONS)
            return Official(
                user=user,
                staff_number=f"F{number:07d}",
                department=self.random.choice(offices),
                position=position,
                rank=rank,
                is_leader=position in ("局长", "副局长") or self.random.random() < 0.03,
            )

        return create_officials(users, official)

    def lectures(self):
        """Live lectures to study; a few are created if the site has none."""
        lectures = list(LecturePage.objects.live().only("pk", "credit_minutes", "title"))
        if lectures:
            return lectures
        index = LectureIndexPage.objects.first()
        if index is None:
            site = Site.objects.filter(is_default_site=True).first()
            home = site.root_page if site else Page.get_first_root_node()
            index = LectureIndexPage(title="学法课堂", slug="lectures")
            home.add_child(instance=index)
        for number, title in enumerate(LECTURE_TITLES, start=1):
            index.refresh_from_db()
            index.add_child(
                instance=LecturePage(
                    title=title,
                    slug=f"fake-lecture-{number}",
                    date=self.start.date() + datetime.timedelta(days=20 * number),
                    credit_minutes=self.random.choice((30, 45, 60)),
                    live=True,
                )
            )
        return list(LecturePage.objects.live().only("pk", "credit_minutes", "title"))

    def exam(self):
        paper = Paper.objects.create(title=f"{self.year}年度学法考试（虚拟）", mode=PaperMode.FIXED)
        opens = self.start + datetime.timedelta(days=150)
        return ExamSession.objects.create(
            kind=SessionKind.ANNUAL,
            title=f"{self.year}年度法律知识考试（虚拟）",
            year=self.year,
            paper=paper,
            opens_at=opens,
            closes_at=opens + datetime.timedelta(days=14),
            attempts_allowed=2,
            for_everyone=True,
        )

    def plans(self, lectures, session):
        """A plan for everyone and one for leaders, unless the year already has plans;
        the annual exam is required by every plan of the year either way."""
        plans = list(StudyPlan.objects.for_year(self.year))
        if not plans:
            everyone = StudyPlan.objects.create(
                year=self.year, title=f"{self.year}年度学法计划", required_credit_hours=4
            )
            everyone.required_lectures.set(lectures[:2])
            leaders = StudyPlan.objects.create(
                year=self.year,
                title=f"{self.year}年度领导干部学法计划",
                audience="leaders",
                required_credit_hours=6,
            )
            leaders.required_lectures.set(lectures[:3])
            plans = [everyone, leaders]
        PlanExam.objects.bulk_create([PlanExam(plan=plan, session=session) for plan in plans])
        return len(plans)

    def study_records(self, people, lectures):
        rows = []
        count = 0
        for official in people:
            for lecture in self.random.sample(
                lectures, min(len(lectures), self.random.randint(2, 6))
            ):
                started = self.when()
                full = lecture.credit_minutes * 60
                seconds = full if self.random.random() < 0.75 else self.random.randint(60, full)
                last = started + datetime.timedelta(seconds=seconds + self.random.randint(0, 600))
                rows.append(
                    StudyRecord(
                        official_id=official.pk,
                        lecture_id=lecture.pk,
                        credited_seconds=seconds,
                        started_at=started,
                        last_heartbeat_at=last,
                        completed_at=last if seconds >= full else None,
                    )
                )
            if len(rows) >= BATCH_SIZE:
                StudyRecord.objects.bulk_create(rows)
                count += len(rows)
                rows = []
        StudyRecord.objects.bulk_create(rows)
        return count + len(rows)

    def collective_sessions(self, offices, lectures):
        """A session every three weeks or so; each bureau attends about half of them."""
        sessions = []
        for number in range(16):
            date = (self.start + datetime.timedelta(days=22 * number)).date()
            if date > self.end.date():
                break
            session = CollectiveStudySession(
                date=date,
                title=f"集体学法第{number + 1}期：{self.random.choice(LECTURE_TITLES)}",
                credit_minutes=self.random.choice((45, 60, 90)),
                lecture=self.random.choice([None, *lectures[:3]]),
            )
            session.save()
            sessions.append(session)
        # One INSERT … SELECT per session: the attending bureaus' officials.
        table = connection.ops.quote_name(SessionAttendance._meta.db_table)
        officials_table = connection.ops.quote_name(Official._meta.db_table)
        offices_of = {}
        for office in offices:
            offices_of.setdefault(office.path[: 2 * Department.steplen], []).append(office.pk)
        with connection.cursor() as cursor:
            for session in sessions:
                office_ids = [
                    pk for ids in offices_of.values() if self.random.random() < 0.5 for pk in ids
                ]
                if not office_ids:
                    continue
                marks = ", ".join(["%s"] * len(office_ids))
                cursor.execute(
                    f"INSERT INTO {table} (session_id, official_id) "  # noqa: S608 - our own table names
                    f"SELECT %s, id FROM {officials_table} WHERE department_id IN ({marks})",
                    [session.pk, *office_ids],
                )
        return SessionAttendance.objects.filter(session__in=sessions).count()

    def attempts(self, people, session):
        """About 92% sit the exam; scores spread around 78%; a third of those who fail
        try again."""
        rows = []
        count = 0
        for official in people:
            if self.random.random() > 0.92:
                continue
            number = 1
            while True:
                started = session.opens_at + datetime.timedelta(
                    seconds=self.random.randint(0, 13 * 86400)
                )
                percent = max(0.0, min(100.0, self.random.gauss(78, 12)))
                score = Decimal(f"{percent:.2f}")
                band = (
                    Band.EXCELLENT
                    if percent >= 90
                    else Band.GOOD
                    if percent >= 80
                    else Band.PASS
                    if percent >= 60
                    else Band.FAIL
                )
                rows.append(
                    Attempt(
                        session=session,
                        official_id=official.pk,
                        paper_id=session.paper_id,
                        number=number,
                        state=AttemptState.SUBMITTED,
                        seed=self.random.getrandbits(48),
                        started_at=started,
                        deadline=started + datetime.timedelta(minutes=90),
                        submitted_at=started
                        + datetime.timedelta(minutes=self.random.randint(20, 89)),
                        score=score,
                        max_score=Decimal("100.00"),
                        percent=score,
                        band=band,
                        passed=band != Band.FAIL,
                    )
                )
                if band != Band.FAIL or number == 2 or self.random.random() > 0.33:
                    break
                number += 1
            if len(rows) >= BATCH_SIZE:
                Attempt.objects.bulk_create(rows)
                count += len(rows)
                rows = []
        Attempt.objects.bulk_create(rows)
        return count + len(rows)
