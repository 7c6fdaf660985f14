from .lectures import LectureIndexPage, LecturePage, LectureSeriesPage
from .organisation import Department, Official, ReportScope, User
from .study import (
    CollectiveStudySession,
    SessionAttendance,
    StudyPlan,
    StudyRecord,
)
from .topics import LawTopic, Speaker

__all__ = [
    "CollectiveStudySession",
    "Department",
    "LawTopic",
    "LectureIndexPage",
    "LecturePage",
    "LectureSeriesPage",
    "Official",
    "ReportScope",
    "SessionAttendance",
    "Speaker",
    "StudyPlan",
    "StudyRecord",
    "User",
]
