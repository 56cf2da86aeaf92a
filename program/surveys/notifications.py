"""How the survey's e-mails (the invitation, and at most two reminders) are written when sent."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from sqlalchemy.orm import joinedload

from program.db import by_id
from program.extensions import db
from program.institution import get_settings
from program.links import external_url
from program.messages.models import Message
from program.messages.registry import Notifications
from program.surveys.models import Survey, SurveyResponse
from program.surveys.services import response_token


def compose_survey_mail(messages: Sequence[Message]) -> dict[int, dict[str, Any]]:
    ids = {m.id: (m.details or {}).get("response_id") for m in messages}
    responses = by_id(
        db.session,
        SurveyResponse,
        (r for r in ids.values() if isinstance(r, int)),
        joinedload(SurveyResponse.person),
        joinedload(SurveyResponse.survey).joinedload(Survey.term),
    )
    threshold = get_settings().suppression_threshold
    out = {}
    for message in messages:
        response = responses.get(ids[message.id])
        if response is None:
            continue
        survey = response.survey
        out[message.id] = {
            "person": response.person,
            "program_name": survey.term.program.name,
            "term_name": survey.term.name,
            "closes_on": survey.closes_on,
            "reminder": (message.details or {}).get("reminder"),
            "answered": response.answered_at is not None,
            "threshold": threshold,
            "url": external_url("surveys.answer_link", token=response_token(response)),
        }
    return out


NOTIFICATIONS = Notifications(
    kinds=frozenset({"survey_invitation", "survey_reminder"}),
    optional=frozenset({"survey_reminder"}),
    composers=((compose_survey_mail, ("survey_invitation",)),),
)
