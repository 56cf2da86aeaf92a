"""The term survey's pages: answering it (from the e-mail's link, no sign-in needed, nothing
recorded by opening it; or from the home page) and the coordinator's live response counts and
settings."""

from __future__ import annotations

from flask import Blueprint, flash, redirect, render_template, url_for
from flask_login import current_user
from werkzeug.wrappers import Response

from program.db import utc_now
from program.permissions import Action, public, requires, signed_in
from program.programs.models import Program
from program.surveys.forms import SurveyForm, SurveySettingsForm
from program.surveys.instrument import own_questions
from program.surveys.models import SurveyResponse
from program.surveys.services import (
    CLOSES_DAYS_AFTER_END,
    REMIND_AFTER_DAYS,
    is_open,
    read_response_token,
    record_answers,
    response_counts,
    survey_of,
    update_survey_settings,
    window,
)
from program.web import open_link, own_or_404, run_service, term_or_404

bp = Blueprint("surveys", __name__)


def _answer(response: SurveyResponse, done: str | None) -> str | Response:
    """The survey's form for `response`, recorded on a POST; then the thanks page, or `done`."""
    survey = response.survey
    form = SurveyForm()
    form.shape(response, own_questions(survey.questions))
    if form.validate_on_submit() and run_service(
        form, record_answers, response.person, response, form.answers()
    ):
        if done is not None:
            flash("Your survey answers are saved. Thank you.", "success")
            return redirect(done)
        return render_template("surveys/thanks.html", response=response, survey=survey)
    return render_template(
        "surveys/answer.html",
        form=form,
        response=response,
        survey=survey,
        open=is_open(survey, utc_now().date()),
        today=utc_now().date(),
    )


@bp.route("/survey/<token>", methods=["GET", "POST"])
@public
def answer_link(token: str) -> str | Response | tuple[str, int]:
    """The page behind the e-mail's link: a GET only shows the survey (mail scanners open every
    link); its button records."""
    response, problem = open_link(
        read_response_token, token, lambda r: r.person_id, "surveys/link_problem.html"
    )
    if problem is not None:
        return problem
    return _answer(response, None)


@bp.route("/surveys/<int:response_id>", methods=["GET", "POST"])
@signed_in
def answer(response_id: int) -> str | Response:
    return _answer(own_or_404(SurveyResponse, response_id), url_for("home.index"))


@bp.route("/programs/<slug>/terms/<term_slug>/survey", methods=["GET", "POST"])
@requires(Action.MANAGE_PROGRAM, program_from="slug")
def status(program: Program, term_slug: str) -> str | Response:
    """The term's survey as its coordinator follows it: counts only, never an answer."""
    term = term_or_404(program, term_slug)
    form = SurveySettingsForm()
    if not form.is_submitted():
        form.days_before_end.data = program.survey_days_before_end
        form.target_percent.data = program.survey_target_percent
        for k, question in enumerate(own_questions(program.survey_questions)):
            getattr(form, f"question_{k}").data = question.text
            getattr(form, f"kind_{k}").data = question.kind
    if form.validate_on_submit() and run_service(
        form,
        update_survey_settings,
        current_user,
        program,
        days_before_end=form.days_before_end.data,
        target_percent=form.target_percent.data,
        questions=form.questions(),
    ):
        flash("Survey settings saved. They apply from the next survey opened.", "success")
        return redirect(url_for("surveys.status", slug=program.slug, term_slug=term.slug))
    survey = survey_of(term)
    opens, closes = window(term)
    return render_template(
        "surveys/status.html",
        program=program,
        term=term,
        survey=survey,
        counts=response_counts(survey) if survey is not None else None,
        opens=opens,
        closes=closes,
        form=form,
        remind_after=REMIND_AFTER_DAYS,
        grace_days=CLOSES_DAYS_AFTER_END,
    )
