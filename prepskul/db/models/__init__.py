"""Tables, one module per concern. Importing this package registers them all."""

from prepskul.db.base import Base
from prepskul.db.models.availability import AvailabilityException, WeeklyWindow
from prepskul.db.models.feed import ChangeEvent
from prepskul.db.models.flags import TranscriptFlag
from prepskul.db.models.holds import RateLimit, TimeHold
from prepskul.db.models.inbox import InboxState, WebhookEvent
from prepskul.db.models.jobs import Job, JobStatus
from prepskul.db.models.money import (
    Earning,
    LedgerAccount,
    LedgerEntry,
    LedgerTransaction,
    OperatorAction,
    Payout,
)
from prepskul.db.models.moves import MoveProposal
from prepskul.db.models.notifications import Notification
from prepskul.db.models.outcomes import LessonOutcome, LessonReport, SessionJoin
from prepskul.db.models.payments import Payment
from prepskul.db.models.people import Invitation, ParentLink, Profile
from prepskul.db.models.plans import Invoice, Plan
from prepskul.db.models.recordings import ActionItem, Recording
from prepskul.db.models.registrations import FathomWebhook
from prepskul.db.models.reviews import Review
from prepskul.db.models.sessions import TutoringSession

__all__ = [
    "ActionItem",
    "AvailabilityException",
    "Base",
    "ChangeEvent",
    "Earning",
    "FathomWebhook",
    "InboxState",
    "Invitation",
    "Invoice",
    "Job",
    "JobStatus",
    "LedgerAccount",
    "LedgerEntry",
    "LedgerTransaction",
    "LessonOutcome",
    "LessonReport",
    "MoveProposal",
    "Notification",
    "OperatorAction",
    "ParentLink",
    "Payment",
    "Payout",
    "Plan",
    "Profile",
    "RateLimit",
    "Recording",
    "Review",
    "SessionJoin",
    "TimeHold",
    "TranscriptFlag",
    "TutoringSession",
    "WebhookEvent",
    "WeeklyWindow",
]
