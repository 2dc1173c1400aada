"""Opening a survey or a ballot from a group chat (a typed command, or a Matrix reaction that
stands for the announcement's deep link): the conversation goes to the private chat, the group
learns only that; where the bot cannot write privately yet, the group gets the deep link."""

from __future__ import annotations

from bot.core.errors import PermanentDeliveryError
from tests.handlers.survey_support import commands, dm, plain
from tests.harness import BotHarness


async def started(bot: BotHarness) -> None:
    await bot.setup_group("AG Engagement", user="anna")
    for name in ("mia", "paul"):
        await bot.send("Hallo", user=name)
    await bot.send("/umfrage starten Engagement-Erhebung bis in 3 Tagen", user="anna")


async def test_a_survey_opened_in_the_group_is_answered_privately(bot: BotHarness) -> None:
    await started(bot)
    before = len(bot.sent_to("mia"))
    replies = await bot.send("/start umfrage-1", user="mia")
    assert replies == ["📬 Mia, ich habe dir die Umfrage privat geschickt."]
    private = bot.sent_to("mia")[before:]
    assert "lädt dich zur Umfrage Engagement-Erhebung ein" in private[0].markup.plain()
    assert "Antwortest du als Person oder für eine Organisation?" in private[-1].markup.plain()
    assert commands(private[-1])[:2] == ["/antwort 1", "/antwort 2"]
    # The private chat now holds the open conversation: a plain message there is the answer.
    answer = plain(await dm(bot, "mia", "2"))
    assert "Wie heißt die Organisation?" in answer
    # The same from a typed command in the group, by the other member.
    replies = await bot.send("/umfrage weiter", user="paul")
    assert replies == ["📬 Paul, ich habe dir die Umfrage privat geschickt."]


async def test_where_the_bot_cannot_write_privately_the_group_gets_the_deep_link(bot: BotHarness) -> None:
    await started(bot)
    blocked = bot.user("mia").external_id
    real_send = bot.messenger.send

    async def send(message):  # type: ignore[no-untyped-def]
        if message.chat.is_private and message.chat.external_id == blocked:
            raise PermanentDeliveryError("never opened the chat", blocked_private=True)
        return await real_send(message)

    bot.messenger.send = send  # type: ignore[method-assign]
    before = len(bot.messenger.sent)
    await bot.send("/umfrage weiter", user="mia")
    group = [m for m in bot.messenger.sent[before:] if not m.chat.is_private]
    texts = [m.markup.plain() for m in group]
    assert texts[0] == "📬 Mia, ich habe dir die Umfrage privat geschickt."
    assert "Umfragen beantwortest du privat mit mir" in texts[-1]
    assert group[-1].buttons[0][0].start_payload == "umfrage-1"


async def test_a_ballot_opened_in_the_group_goes_to_the_private_chat(bot: BotHarness) -> None:
    await started(bot)
    await bot.send("/abstimmung Sommerfest? | ja | nein | anonym", user="anna")
    before = len(bot.sent_to("paul"))
    replies = await bot.send("/start poll-1", user="paul")
    assert replies == ["📬 Paul, ich habe dir den Stimmzettel privat geschickt."]
    ballot = bot.sent_to("paul")[before:]
    assert len(ballot) == 1 and "Sommerfest?" in ballot[0].markup.plain()
