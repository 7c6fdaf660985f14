"""Demo organisation from the seed document: the Binhai New Area district
government with its office, legal affairs section, organisation department and
bureaus, about sixty officials, and one account per role."""

import random

from django.contrib.auth.models import Group

from . import roles
from .models import Department, Official, User

DEMO_PASSWORD = "xuefa-demo"  # noqa: S105 - documented demo-only password

ROOT_DEPARTMENT = "滨海新区人民政府"
DEPARTMENTS = {
    "区政府办公室": ["秘书科", "法制科", "政务公开科", "综合科"],
    "区委组织部": ["干部科"],
    "区司法局": [],
    "区发展和改革委员会": [],
    "区财政局": [],
    "区应急管理局": [],
    "区生态环境局": [],
    "区规划和自然资源局": [],
    "区统计局": [],
    "区文化和旅游局": [],
}

# username, role, name, department
DEMO_ACCOUNTS = [
    ("official", roles.OFFICIAL, "王晓明", "秘书科"),
    ("leader", roles.OFFICIAL, "李建国", "区政府办公室"),
    ("organizer", roles.ORGANIZER, "赵敏", "法制科"),
    ("hr", roles.HR, "刘洋", "干部科"),
    ("admin", "superuser", "陈志强", "综合科"),
]
_DEMO_PROFILES = {
    "official": ("BH0001", "科员", "一级科员", False, "13800000001"),
    "leader": ("BH0002", "主任", "一级巡视员", True, "13800000002"),
    "organizer": ("BH0003", "科长", "四级调研员", False, "13800000003"),
    "hr": ("BH0004", "科长", "四级调研员", False, "13800000004"),
    "admin": ("BH0005", "信息管理员", "一级主任科员", False, "13800000005"),
}

SURNAMES = "王李张刘陈杨赵黄周吴徐孙胡朱高林何郭马罗梁宋郑谢韩唐冯于董萧程曹袁邓许傅沈曾彭吕"
GIVEN = "伟芳娜敏静丽强磊军洋勇艳杰涛明超秀霞平刚桂英华玉兰红建国志海波宁慧晨雪琳峰鹏辉"
STAFF_POSITIONS = [
    ("科员", "一级科员"),
    ("科员", "二级主任科员"),
    ("副科长", "四级主任科员"),
    ("科长", "一级主任科员"),
    ("科长", "四级调研员"),
]
LEADER_POSITIONS = [("局长", "二级巡视员"), ("副局长", "一级调研员"), ("副主任", "二级调研员")]


def _department_by_name():
    return {d.name: d for d in Department.objects.all()}


def load_departments():
    root = Department.objects.filter(depth=1, name=ROOT_DEPARTMENT).first()
    created = 0
    if root is None:
        root = Department.add_root(name=ROOT_DEPARTMENT)
        created += 1
    for name, children in DEPARTMENTS.items():
        node = root.get_children().filter(name=name).first()
        if node is None:
            node = root.add_child(name=name)
            root.refresh_from_db()
            created += 1
        for child in children:
            if not node.get_children().filter(name=child).exists():
                node.add_child(name=child)
                node.refresh_from_db()
                created += 1
    return created


def _upsert_official(username, name, department, staff_number, position, rank, is_leader, mobile):
    user, user_created = User.objects.get_or_create(username=username, defaults={"name": name})
    if user_created:
        user.email = f"{username}@binhai.example.cn"
        user.set_unusable_password()
        user.save()
    Official.objects.update_or_create(
        user=user,
        defaults={
            "staff_number": staff_number,
            "department": department,
            "position": position,
            "rank": rank,
            "is_leader": is_leader,
            "mobile": mobile,
        },
    )
    return user, user_created


def load_people():
    """The five demo accounts with their roles, then generated officials."""
    departments = _department_by_name()
    groups = {g.name: g for g in Group.objects.filter(name__in=roles.ROLES)}
    created = 0
    for username, role, name, department in DEMO_ACCOUNTS:
        profile = _DEMO_PROFILES[username]
        user, user_created = _upsert_official(username, name, departments[department], *profile)
        if user_created:
            created += 1
            user.set_password(DEMO_PASSWORD)
            user.must_change_password = False
            user.is_superuser = user.is_staff = role == "superuser"
            user.save()
            user.groups.add(groups[roles.OFFICIAL])
            if role in groups:
                user.groups.add(groups[role])

    rng = random.Random(2020)
    bureaus = [name for name in DEPARTMENTS if name != "区政府办公室"] + [
        "秘书科",
        "政务公开科",
        "综合科",
        "法制科",
    ]
    used_names = {name for _u, _r, name, _d in DEMO_ACCOUNTS}
    official_group = groups[roles.OFFICIAL]
    for number in range(6, 61):
        name = None
        while name is None or name in used_names:
            name = rng.choice(SURNAMES) + "".join(
                rng.choice(GIVEN) for _ in range(rng.choice((1, 2)))
            )
        used_names.add(name)
        department = departments[bureaus[number % len(bureaus)]]
        is_leader = number % 9 == 0
        position, rank = rng.choice(LEADER_POSITIONS if is_leader else STAFF_POSITIONS)
        user, user_created = _upsert_official(
            f"BH{number:04d}",
            name,
            department,
            f"BH{number:04d}",
            position,
            rank,
            is_leader,
            f"139{number:08d}",
        )
        if user_created:
            created += 1
            user.groups.add(official_group)
    return created
