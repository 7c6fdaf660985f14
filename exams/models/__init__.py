from .attempts import Answer, Attempt, AttemptState, Band
from .certificates import Certificate, CertificateKind
from .exports import ExportJob, ExportStatus
from .integrity import IntegrityEvent, IntegrityKind
from .marking import Marking, MarkingRound
from .notebook import NotebookEntry
from .papers import Paper, PaperMode, PaperQuestion, PaperRule
from .plans import PlanExam
from .questions import CHOICE_TYPES, MANUAL_TYPES, Difficulty, Question, QuestionType
from .quizzes import LectureQuiz, LectureQuizQuestion, QuizAttempt
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
    "CHOICE_TYPES",
    "Certificate",
    "CertificateKind",
    "DeviceRule",
    "Difficulty",
    "ExamSession",
    "ExportJob",
    "ExportStatus",
    "Grading",
    "IntegrityEvent",
    "IntegrityKind",
    "LectureQuiz",
    "LectureQuizQuestion",
    "MANUAL_TYPES",
    "Marking",
    "MarkingRound",
    "NotebookEntry",
    "Paper",
    "PaperMode",
    "PaperQuestion",
    "PaperRule",
    "PlanExam",
    "Question",
    "QuestionType",
    "QuizAttempt",
    "Reminder",
    "ReminderStatus",
    "ReviewPolicy",
    "SessionCandidate",
    "SessionKind",
    "SessionOverride",
]
