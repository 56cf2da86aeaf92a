"""What a message says in a chat tool: a card, written from the same context as its e-mail when
it is written, kept on the message, and drawn for the tool when it is sent (Slack's Block Kit
here; the demo inbox draws the same card beside the e-mail).

A card is plain JSON: a title, a few lines, buttons that act (each with the signed token its
e-mail link carries, so a press records exactly what a click on the link would) and buttons
that open a page. Only the moments a person acts on have one: the introduction, the check-in
(its prompt and reminder), an ask from the directory and a request for a mentor's
availability; every other kind goes by e-mail.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any
from urllib.parse import quote

Card = dict[str, Any]

# The action ids of buttons that answer (`program.chat` records their press): a check-in, an
# ask from the directory, a request for availability.
CHECK_IN = "checkin"
ASK = "ask"
AVAILABILITY = "availability"
# The optional rating chosen before "We met" (its own choice records nothing).
RATING = "rating"
RATINGS = [(str(n), f"{n} of 5") for n in range(5, 0, -1)]


def _check_in_card(context: dict[str, Any]) -> Card:
    about = context["about"]
    if about.track == "formal":
        line = (
            f"A quick check-in on your mentoring with {about.partner_names} for "
            f"{about.period_label}."
        )
    else:
        line = (
            f"You were paired with {about.partner_names} for a coffee chat ({about.period_label})."
        )
    return {
        "title": f"Did you meet {about.partner_names}?",
        "lines": [line, "One tap records your answer; only you ever see it."],
        # A rating to go with "We met", chosen before the tap (optional; only they see it).
        "rating": "How useful was it? (optional; only you see this)",
        "buttons": [
            {"label": label, "action": CHECK_IN, "value": token}
            for label, token in context["answers"]
        ],
        "links": [],
    }


def _intro_card(context: dict[str, Any]) -> Card:
    partners = context["partners"]
    names = " and ".join(p.name for p in partners)
    program = context["program_name"]
    if context["track"] == "formal":
        lead = f"{program} has paired you for formal mentoring this term with:"
    elif context.get("self_started"):
        lead = (
            f"{partners[0].name} said yes to your ask for a coffee in {program}:"
            if context["writes_first"]
            else f"You said yes to a coffee in {program} with:"
        )
    else:
        lead = f"Your coffee chat this round in {program} is with:"
    lines = [lead]
    for p in partners:
        where = ", ".join(x for x in (p.department_name, p.stage.label if p.stage else None) if x)
        lines.append(f"• {p.name} ({p.email}{', ' + where if where else ''})")
    quote = None
    if context["writes_first"]:
        lines.append(
            "You write first: a short, specific note with two real times works best. One, "
            "ready to edit and send:"
        )
        quote = context["ask"].body
    else:
        first = context["first_mover"]
        lines.append(
            f"{first.name} will write to you to suggest a time. If you have not heard by "
            f"{context['expect_by']:%A %d %B}, a two-line note from you makes it easy."
        )
    links = []
    if context.get("propose_link"):
        links.append({"label": "Propose times", "url": context["propose_link"]})
    return {
        "title": f"{program}: meet {names}",
        "lines": lines,
        "quote": quote,
        "buttons": [],
        "links": links,
        "partners": [p.id for p in partners],
        # Teams opens a chat with them from a link (a bot cannot start a group chat).
        "partner_emails": [p.email for p in partners],
    }


def _ask_card(context: dict[str, Any]) -> Card:
    asker, ask = context["asker"], context["ask"]
    where = ", ".join(
        x for x in (asker.stage.label if asker.stage else None, asker.department_name) if x
    )
    found = f"{asker.name}{f' ({where})' if where else ''} found you in the "
    found += f"{context['program_name']} directory"
    if context.get("referred_by"):
        found += f", on {context['referred_by'].name}'s suggestion"
    return {
        "title": f"{asker.name} asks: {ask.subject}",
        "lines": [found + ", and writes:"],
        "quote": ask.body,
        "buttons": [
            {"label": label, "action": ASK, "value": token} for label, token in context["answers"]
        ],
        "links": [],
        "after": (
            f"Yes introduces you both, like a coffee chat. Not now tells {asker.name} kindly, "
            f"without a reason. If you do not answer by {context['respond_by']:%d %B}, the ask "
            "closes quietly."
        ),
    }


def _availability_card(context: dict[str, Any]) -> Card:
    return {
        "title": f"Can you mentor in {context['term_name']}?",
        "lines": [
            f"{context['program_name']} is matching trainees with mentors for "
            f"{context['term_name']}. Can you take mentees this term, and how many?"
        ],
        "buttons": [
            {"label": label, "action": AVAILABILITY, "value": token}
            for label, token in context["answers"]
        ],
        "links": [],
        "after": "More than three, or topics you would like: answer from the e-mail's page.",
    }


BUILDERS: dict[str, Callable[[dict[str, Any]], Card]] = {
    "intro": _intro_card,
    "checkin_prompt": _check_in_card,
    "reminder": _check_in_card,
    "ask": _ask_card,
    "availability_request": _availability_card,
}


def card_for(template: str, context: dict[str, Any]) -> Card | None:
    """The card of a message written from this template and context, or None (e-mail only)."""
    build = BUILDERS.get(template)
    return build(context) if build is not None else None


def _escape(text: str) -> str:
    """Slack's mrkdwn reads &, < and > as markup: a name never turns into a link or mention."""
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def slack_blocks(card: Card, mention: str | None = None, recorded: str | None = None) -> list[dict]:
    """The card as Block Kit blocks. `mention`: the Slack user it is addressed to in a group
    conversation; `recorded`: what a press recorded, shown in place of the buttons."""
    head = f"*{_escape(card['title'])}*"
    if mention:
        head = f"<@{mention}> {head}"
    blocks: list[dict] = [
        {"type": "section", "text": {"type": "mrkdwn", "text": head}},
        {
            "type": "section",
            "text": {"type": "mrkdwn", "text": "\n".join(_escape(x) for x in card["lines"])},
        },
    ]
    if card.get("quote"):
        quoted = "\n".join(f"&gt; {_escape(line)}" for line in card["quote"].splitlines())
        blocks.append({"type": "section", "text": {"type": "mrkdwn", "text": quoted}})
    if recorded:
        blocks.append(
            {"type": "context", "elements": [{"type": "mrkdwn", "text": _escape(recorded)}]}
        )
        return blocks
    elements: list[dict[str, Any]] = []
    if card.get("rating"):
        elements.append(
            {
                "type": "static_select",
                "action_id": f"{RATING}:0",
                "placeholder": {"type": "plain_text", "text": "Rating, with “We met”"},
                "options": [
                    {"text": {"type": "plain_text", "text": label}, "value": value}
                    for value, label in RATINGS
                ],
            }
        )
    elements += [
        {
            "type": "button",
            "text": {"type": "plain_text", "text": b["label"]},
            "action_id": f"{b['action']}:{i}",
            "value": b["value"],
        }
        for i, b in enumerate(card["buttons"])
    ]
    elements += [
        {
            "type": "button",
            "text": {"type": "plain_text", "text": link["label"]},
            "action_id": f"link:{i}",
            "url": link["url"],
        }
        for i, link in enumerate(card["links"])
    ]
    if elements:
        blocks.append({"type": "actions", "elements": elements})
    if card.get("after"):
        blocks.append(
            {"type": "context", "elements": [{"type": "mrkdwn", "text": _escape(card["after"])}]}
        )
    return blocks


def card_text(card: Card) -> str:
    """The card as plain text: the notification's preview, and what a screen reader or a
    client without blocks shows."""
    return "\n".join(
        [card["title"], *card["lines"], *([card["quote"]] if card.get("quote") else [])]
    )


TEAMS_CHAT = "https://teams.microsoft.com/l/chat/0/0"


def adaptive_card(card: Card, recorded: str | None = None) -> dict[str, Any]:
    """The card as an Adaptive Card (1.4, what Teams renders on desktop, web and phone): its
    answers as Action.Execute buttons (the press comes back to Hallway as an invoke, and the
    card it answers with replaces this one), its links as Action.OpenUrl, and for an
    introduction "Chat with them", which opens a Teams chat with the partners.
    `recorded`: what a press recorded, shown in place of the answers."""
    body: list[dict[str, Any]] = [
        {
            "type": "TextBlock",
            "text": card["title"],
            "weight": "Bolder",
            "size": "Medium",
            "wrap": True,
        }
    ]
    body += [{"type": "TextBlock", "text": line, "wrap": True} for line in card["lines"]]
    if card.get("quote"):
        body.append(
            {
                "type": "Container",
                "style": "emphasis",
                # A block per paragraph: Teams does not keep a single line break in a block.
                "items": [
                    {"type": "TextBlock", "text": " ".join(paragraph.split()), "wrap": True}
                    for paragraph in card["quote"].split("\n\n")
                    if paragraph.strip()
                ],
            }
        )
    if card.get("rating") and not recorded:
        body.append(
            {
                "type": "Input.ChoiceSet",
                "id": RATING,
                "label": card["rating"],
                "style": "compact",
                "isRequired": False,
                "placeholder": "Rating, with “We met”",
                "choices": [{"title": label, "value": value} for value, label in RATINGS],
            }
        )
    if card.get("after") and not recorded:
        body.append({"type": "TextBlock", "text": card["after"], "wrap": True, "isSubtle": True})
    actions: list[dict[str, Any]] = []
    if recorded:
        body.append({"type": "TextBlock", "text": recorded, "wrap": True, "isSubtle": True})
    else:
        actions += [
            {
                "type": "Action.Execute",
                "title": b["label"],
                "verb": b["action"],
                "data": {"token": b["value"]},
            }
            for b in card["buttons"]
        ]
    if card.get("partner_emails"):
        users = ",".join(quote(email, safe="@") for email in card["partner_emails"])
        actions.append(
            {
                "type": "Action.OpenUrl",
                "title": "Chat with them",
                "url": f"{TEAMS_CHAT}?users={users}",
            }
        )
    actions += [
        {"type": "Action.OpenUrl", "title": link["label"], "url": link["url"]}
        for link in card["links"]
    ]
    made: dict[str, Any] = {
        "type": "AdaptiveCard",
        "$schema": "http://adaptivecards.io/schemas/adaptive-card.json",
        "version": "1.4",
        "body": body,
    }
    if actions:
        made["actions"] = actions
    return made
