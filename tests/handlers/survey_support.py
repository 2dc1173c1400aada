"""What the survey tests share: writing in a person's private chat, the Engagement-Erhebung's
answers built from plain data (so each test computes its expected figures from the same data,
independently of the bot's arithmetic), and reading the files of ``/umfrage export``."""

from __future__ import annotations

import csv
import io
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime

from bot.core.events import ChatKind, ChatRef, IncomingMessage, OutgoingMessage
from bot.services.survey_model import Text
from bot.services.surveys import shipped_definition
from tests.harness import BotHarness

CRITERIA = ("gemeinwohl", "freiwillig", "oeffentlich", "nicht_profit", "gemeinschaftlich")
"""The criteria of the shipped definition that are asked, in order ("beitrag" is not asked)."""
TAKEN = ("📋", "⚠️ Zählt nicht", "✅")
FAILED = {
    "gemeinwohl": "nicht gemeinwohlorientiert",
    "freiwillig": "nicht freiwillig",
    "oeffentlich": "nicht im öffentlichen Raum – es werden Menschen ausgeschlossen",
    "nicht_profit": "profitorientiert",
    "gemeinschaftlich": "nicht gemeinschaftlich ausgeübt",
}


def private(bot: BotHarness, user: str) -> ChatRef:
    """The person's private chat with the bot (on a real platform its id is the person's)."""
    return ChatRef(bot.platform, bot.user(user).external_id, ChatKind.PRIVATE, user)


async def dm(bot: BotHarness, user: str, text: str) -> list[OutgoingMessage]:
    """A message in the person's private chat; returns the bot's messages to that chat."""
    before = len(bot.messenger.sent)
    chat = private(bot, user)
    await bot.app.handle(IncomingMessage(chat, bot.user(user), text))
    await bot.settle()
    return [m for m in bot.messenger.sent[before:] if m.chat.external_id == chat.external_id]


async def say(bot: BotHarness, user: str, text: str) -> str:
    """:func:`dm`, the replies' plain texts joined."""
    return plain(await dm(bot, user, text))


def plain(messages: list[OutgoingMessage]) -> str:
    """The plain texts of messages, separated by a line of dashes."""
    return "\n---\n".join(m.markup.plain() for m in messages)


def commands(message: OutgoingMessage) -> list[str | None]:
    """The commands (or start payloads) of a message's buttons, row by row."""
    return [b.command or b.start_payload for row in message.buttons for b in row]


async def answer_all(bot: BotHarness, user: str, answers: list[str]) -> list[OutgoingMessage]:
    """Type each answer in turn; returns the replies to the last one."""
    replies: list[OutgoingMessage] = []
    for text in answers:
        replies = await dm(bot, user, text)
        assert replies, f"no reply to {text!r}"
        # A taken answer gets the next question (📋), maybe after the note that a criterion
        # failed, or the thanks (✅); anything else is an error and the question again.
        others = [m.markup.plain() for m in replies if not m.markup.plain().startswith(TAKEN)]
        assert not others, f"{text!r} was not taken: {others}"
    return replies


@dataclass(frozen=True)
class Activity:
    """One activity as typed and as meant: ``(typed, value)`` pairs for the figures."""

    description: str
    direct: bool
    hours: tuple[str, float] | None = None
    people: tuple[str, int] | None = None
    money: tuple[str, float] | None = None
    goods: tuple[str, str, float] | None = None
    """(what, typed value, value)"""
    criteria: dict[str, bool] = field(default_factory=lambda: dict.fromkeys(CRITERIA, True))

    @property
    def failed(self) -> list[str]:
        return [c for c in CRITERIA if not self.criteria[c]]

    @property
    def counts(self) -> bool:
        return not self.failed and any(
            v is not None and v > 0 for v in (self.hours_value, self.money_value, self.goods_value)
        )

    @property
    def hours_value(self) -> float | None:
        return self.hours[1] if self.hours else None

    @property
    def people_value(self) -> int | None:
        return self.people[1] if self.people else None

    @property
    def money_value(self) -> float | None:
        return self.money[1] if self.money else None

    @property
    def goods_value(self) -> float | None:
        return self.goods[2] if self.goods else None

    def typed(self) -> list[str]:
        """What the respondent types for this activity, criteria included."""
        given = [("Zeit", self.hours), ("Geld", self.money), ("Sachgüter", self.goods)]
        answers = [self.description, "direkt" if self.direct else "indirekt"]
        answers.append(", ".join(word for word, value in given if value is not None))
        if self.hours is not None:
            assert self.people is not None
            answers += [self.hours[0], self.people[0]]
        if self.money is not None:
            answers.append(self.money[0])
        if self.goods is not None:
            answers += [self.goods[0], self.goods[1]]
        return answers + ["ja" if self.criteria[c] else "nein" for c in CRITERIA]


@dataclass(frozen=True)
class Respondent:
    """A whole response to the Engagement-Erhebung."""

    activities: tuple[Activity, ...]
    organisation: tuple[str, str] | None = None
    """(name, kind as typed), ``None`` for a person."""

    def typed(self) -> list[str]:
        """Every answer in order, from the first question to "no more activities"."""
        answers = ["1"] if self.organisation is None else ["2", *self.organisation]
        for number, activity in enumerate(self.activities, start=1):
            answers += activity.typed()
            answers.append("ja" if number < len(self.activities) else "nein")
        return answers


def expected_totals(respondents: list[Respondent]) -> dict[str, float]:
    """Sums over the activities that count (all criteria met and something contributed)."""
    counted = [a for r in respondents for a in r.activities if a.counts]
    return {
        "hours": sum(a.hours_value or 0 for a in counted),
        "people": sum(a.people_value or 0 for a in counted),
        "money": sum(a.money_value or 0 for a in counted),
        "goods_value": sum(a.goods_value or 0 for a in counted),
        "counted": len(counted),
        "not_counted": sum(1 for r in respondents for a in r.activities if not a.counts),
    }


def read_csv(data: bytes) -> list[dict[str, str]]:
    """The export's CSV (German: ``;``, decimal comma, UTF-8 with BOM) as dicts by header."""
    assert data.startswith(b"\xef\xbb\xbf")
    return list(csv.DictReader(io.StringIO(data.decode("utf-8-sig")), delimiter=";"))


def german_number(text: str) -> float | None:
    """A CSV number cell ("12,5", "5000") as float; ``None`` for an empty cell."""
    return float(text.replace(",", ".")) if text else None


# The Engagement-Erhebung of AG Engagement ---------------------------------------------------------

START = "/umfrage starten Engagement-Erhebung bis in 3 Tagen"
DEADLINE = datetime(2026, 11, 24, 9, 0, tzinfo=UTC)  # Tuesday 10:00 in Berlin
NOT_VOLUNTARY = (
    "⚠️ Zählt nicht als Engagement im Sinne der Definition, weil: nicht freiwillig – "
    "z. B. Pflichtstunden im Rahmen des Arbeitsvertrags."
)

STIFTUNG = Respondent(
    organisation=("Bürgerstiftung Musterstadt", "Stiftung"),
    activities=(
        Activity(
            "Förderung des Jugendtreffs",
            direct=False,
            money=("5.000", 5000.0),
            goods=("Räume im Stiftungshaus", "1.200,50 €", 1200.5),
        ),
    ),
)
PAUL = Respondent(
    activities=(
        Activity(
            "Pflichtstunden im Verein",
            direct=True,
            hours=("20 Std.", 20.0),
            people=("1", 1),
            criteria={**dict.fromkeys(FAILED, True), "freiwillig": False},
        ),
        Activity(
            "Hausaufgabenhilfe im Stadtteilzentrum",
            direct=True,
            hours=("12,5", 12.5),
            people=("2 Personen", 2),
        ),
    )
)


def in_group(bot: BotHarness, chat: str = "ag") -> list[OutgoingMessage]:
    """Everything the bot sent to a group chat."""
    return [m for m in bot.messenger.sent if m.chat.external_id == f"group:{chat}"]


async def respond(bot: BotHarness, user: str, respondent: Respondent, opener: str = "/umfrage weiter") -> str:
    """Open the survey privately and give every answer; returns the thanks."""
    first = await say(bot, user, opener)
    assert "Frage 1 von" in first, first
    return plain(await answer_all(bot, user, respondent.typed()))


async def adopt(bot: BotHarness, criterion_id: str, **changes: Text) -> int:
    """The network adopts a definition in which one criterion of the shipped one is changed;
    returns the new version."""
    shipped = shipped_definition()
    criteria = tuple(replace(c, **changes) if c.id == criterion_id else c for c in shipped.criteria)
    async with bot.app.unit() as unit:
        row, new = await unit.services.surveys.add_definition(
            replace(shipped, criteria=criteria), source="geaendert.toml"
        )
        assert new
        return row.version


def attachments(messages: list[OutgoingMessage]) -> dict[str, bytes]:
    return {m.attachment.filename: m.attachment.data for m in messages if m.attachment is not None}


def german(value: float, *, money: bool = False) -> str:
    """How results write a figure: "12,5", "5.000", "1.200,5"; an amount in euros with its
    cents: "1.200,50"."""
    if money and value != int(value):
        whole, _, fraction = f"{value:,.2f}".partition(".")
    else:
        whole, _, fraction = f"{value:,.2f}".rstrip("0").rstrip(".").partition(".")
    return whole.replace(",", ".") + ("," + fraction if fraction else "")
