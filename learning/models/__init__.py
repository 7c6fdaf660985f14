from .agenda import AgendaItem, AgendaStatus
from .imports import ImportJob, ImportPhase, ImportStatus
from .lectures import LectureIndexPage, LecturePage, LectureSeriesPage
from .notices import (
    Delivery,
    DeliveryStatus,
    NoticeChannel,
    NoticeKind,
    NoticePreference,
)
from .organisation import (
    Department,
    DepartmentMembership,
    Official,
    ReportScope,
    User,
    departments_at,
    reporting_day,
)
from .study import (
    CollectiveStudySession,
    SessionAttendance,
    StudyExemption,
    StudyPlan,
    StudyRecord,
)
from .topics import LawTopic, Speaker

__all__ = [
    "AgendaItem",
    "AgendaStatus",
    "CollectiveStudySession",
    "Delivery",
    "DeliveryStatus",
    "Department",
    "DepartmentMembership",
    "ImportJob",
    "ImportPhase",
    "ImportStatus",
    "LawTopic",
    "LectureIndexPage",
    "LecturePage",
    "LectureSeriesPage",
    "NoticeChannel",
    "NoticeKind",
    "NoticePreference",
    "Official",
    "ReportScope",
    "SessionAttendance",
    "Speaker",
    "StudyExemption",
    "StudyPlan",
    "StudyRecord",
    "User",
    "departments_at",
    "reporting_day",
]
