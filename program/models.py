"""Every domain's models, imported in one place so the metadata (and Alembic) sees all tables."""

from program.accounts.models import SamlRequest, SamlSeen, SignInIdentity
from program.admin.models import InstitutionSettings
from program.asks.models import Ask, AskStatus, Listing, Meets, OutsideReferral
from program.audit.models import AuditEvent
from program.changes import DataGeneration
from program.checkins.models import CheckIn, CheckInStatus, LedTo
from program.coffee.models import Chat, ChatMember, Enrollment, Round, RoundStatus
from program.formal.models import Assessor, Assignment, AssignmentStatus, Availability, EndReason
from program.kept import KeptResult
from program.meetings.models import Meeting, MeetingStatus
from program.messages.models import Message, MessageStatus
from program.outcomes.models import Measure, OutcomeUpload, OutcomeValue
from program.people.models import CareerStage, Department, PairingBlock, Person
from program.programs.models import (
    Cohort,
    CohortMember,
    DepartmentPreference,
    Membership,
    Program,
    Role,
    Term,
)
from program.reporting.models import ActionItem, ActionStatus
from program.roster.models import RosterUpload
from program.surveys.models import Survey, SurveyResponse

__all__ = [
    "ActionItem",
    "ActionStatus",
    "Ask",
    "AskStatus",
    "Assessor",
    "Assignment",
    "AssignmentStatus",
    "AuditEvent",
    "Availability",
    "CareerStage",
    "Chat",
    "ChatMember",
    "CheckIn",
    "CheckInStatus",
    "Cohort",
    "CohortMember",
    "DataGeneration",
    "Department",
    "DepartmentPreference",
    "EndReason",
    "Enrollment",
    "InstitutionSettings",
    "KeptResult",
    "LedTo",
    "Listing",
    "Measure",
    "Meeting",
    "MeetingStatus",
    "Meets",
    "Membership",
    "Message",
    "MessageStatus",
    "OutcomeUpload",
    "OutcomeValue",
    "OutsideReferral",
    "PairingBlock",
    "Person",
    "Program",
    "Role",
    "RosterUpload",
    "Round",
    "RoundStatus",
    "SamlRequest",
    "SamlSeen",
    "SignInIdentity",
    "Survey",
    "SurveyResponse",
    "Term",
]
