from .attempts import Answer, Attempt, AttemptState, Band
from .exports import ExportJob, ExportStatus
from .integrity import IntegrityEvent, IntegrityKind
from .notebook import NotebookEntry
from .papers import Paper, PaperMode, PaperQuestion, PaperRule
from .plans import PlanExam
from .questions import Difficulty, Question, QuestionType
from .reminders import Reminder, ReminderStatus
from .sessions import (
    DeviceRule,
    ExamSession,
    Grading,
    ReviewPolicy,
    SessionCandidate,
    SessionKind,
    SessionOverride,
)

__all__ = [
    "Answer",
    "Attempt",
    "AttemptState",
    "Band",
    "DeviceRule",
    "Difficulty",
    "ExamSession",
    "ExportJob",
    "ExportStatus",
    "Grading",
    "IntegrityEvent",
    "IntegrityKind",
    "NotebookEntry",
    "Paper",
    "PaperMode",
    "PaperQuestion",
    "PaperRule",
    "PlanExam",
    "Question",
    "QuestionType",
    "Reminder",
    "ReminderStatus",
    "ReviewPolicy",
    "SessionCandidate",
    "SessionKind",
    "SessionOverride",
]
