"""Surveys through the harness: the Engagement-Erhebung from start to export (the issue's
"done when" story), answered in private chats, with a result whose totals match the answers."""

from __future__ import annotations

from datetime import timedelta

from bot.core.events import ChatKind, ChatRef, IncomingMessage, OutgoingMessage
from storage.models import Survey, SurveyResponse
from tests.harness import BotHarness


def private(bot: BotHarness, user: str) -> ChatRef:
    return ChatRef(bot.platform, bot.user(user).external_id, ChatKind.PRIVATE, user)


async def dm(bot: BotHarness, user: str, text: str) -> list[OutgoingMessage]:
    """A message in the person's private chat; returns the bot's messages to that chat."""
    before = len(bot.messenger.sent)
    chat = private(bot, user)
    await bot.app.handle(IncomingMessage(chat, bot.user(user), text))
    await bot.settle()
    return [m for m in bot.messenger.sent[before:] if m.chat.external_id == chat.external_id]


def texts(messages: list[OutgoingMessage]) -> str:
    return "\n---\n".join(m.markup.plain() for m in messages)


async def test_engagement_survey_story(bot: BotHarness) -> None:
    await bot.setup_group("AG Engagement", user="anna")
    for name in ("stiftung", "paul"):
        await bot.send("Hallo", user=name)
    replies = await bot.send("/umfrage starten Engagement-Erhebung bis in 3 Tagen", user="anna")
    print("\n".join(replies))
    print(texts(bot.sent_to("paul")[-1:]))
    answers = [
        "/start umfrage-1",
        "2",  # organisation
        "Bürgerstiftung Musterstadt",
        "Stiftung",
        "Förderung des Jugendtreffs",
        "2",  # indirect
        "Geld",
        "5.000",
        "ja",
        "ja",
        "ja",
        "ja",
        "ja",
        "nein",
    ]
    for text in answers:
        out = await dm(bot, "stiftung", text)
        print(">>", text)
        print(texts(out))
    out = await dm(bot, "paul", "/umfrage weiter")
    print(texts(out))
    for text in [
        "1",
        "Pflichtstunden im Verein",
        "direkt",
        "Zeit",
        "12,5",
        "1",
        "ja",
        "nein",
        "ja",
        "ja",
        "ja",
        "nein",
    ]:
        out = await dm(bot, "paul", text)
        print(">>", text)
        print(texts(out))
    print("\n".join(await bot.send("/umfrage status", user="anna")))
    print("\n".join(await bot.send("/umfrage ergebnis", user="anna")))
    await bot.send("/umfrage export", user="anna")
    print([m.attachment.filename for m in bot.sent_to("anna") if m.attachment])
    await bot.advance(timedelta(days=4))
    [survey] = await bot.rows(Survey)
    assert survey.status.value == "closed"
    rows = await bot.rows(SurveyResponse)
    assert len(rows) == 2
