"""How check-in e-mails (the prompt, its reminder, the follow-ups after a first meeting) are written
when they are sent."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from flask import current_app
from sqlalchemy.orm import raiseload

from program.checkins.models import CheckIn
from program.checkins.services import ANSWER_LABELS, FOLLOW_UPS, make_answer_token, with_its_person
from program.db import by_id
from program.extensions import db
from program.links import external_url
from program.messages.models import Message
from program.messages.registry import Notifications
from program.pairings import about, abouts


def _mail_context(check_in: CheckIn, template: str) -> dict[str, Any]:
    """What a check-in's e-mail says: the prompt and its reminder carry a one-click link per
    answer; the follow-ups after a first meeting only who it was with."""
    context: dict[str, Any] = {"person": check_in.person, "about": about(check_in)}
    if template in ("checkin_prompt", "reminder"):
        # The same signed answers behind the e-mail's links and a chat card's buttons.
        context["answers"] = [
            (label, make_answer_token(check_in, status)) for status, label in ANSWER_LABELS.items()
        ]
        context["links"] = [
            (label, external_url("checkins.answer_link", token=token))
            for label, token in context["answers"]
        ]
        context["valid_days"] = current_app.config["CHECKIN_LINK_MAX_AGE_DAYS"]
    return context


def compose_check_in_mail(messages: Sequence[Message]) -> dict[int, dict[str, Any]]:
    check_ins = by_id(
        db.session,
        CheckIn,
        (m.check_in_id for m in messages if m.check_in_id is not None),
        *with_its_person(),
        # Any other load refused: a new lazy load in the loop fails in the tests instead of
        # costing a query per message in production.
        raiseload("*"),
    )
    abouts(list(check_ins.values()))
    return {
        m.id: _mail_context(check_ins[m.check_in_id], m.template or m.kind)
        for m in messages
        if m.check_in_id in check_ins
    }


NOTIFICATIONS = Notifications(
    kinds=frozenset({"checkin_prompt", "reminder", *FOLLOW_UPS, "intro_follow_up"}),
    optional=frozenset({"reminder", *FOLLOW_UPS, "intro_follow_up"}),
    composers=((compose_check_in_mail, ("checkin_prompt", "reminder", *FOLLOW_UPS)),),
)
