"""Command parsing and the router's registry."""

from __future__ import annotations

import pytest

from bot.core.errors import UsageError, UserError
from bot.core.router import Args, Invocation, Router, as_number, normalise_name, parse_command
from bot.handlers import build_router


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("/beschluss Text hier", Invocation("beschluss", "Text hier")),
        ("!beschluss Text", Invocation("beschluss", "Text")),
        ("/beschluss@kuemmerer_bot   Text \n zweite Zeile", Invocation("beschluss", "Text \n zweite Zeile")),
        ("  /ziele  ", Invocation("ziele", "")),
        ("/beschlüsse", Invocation("beschlüsse", "")),
        ("Hallo", None),
        ("/", None),
        ("!!!", None),
        ("/123", None),
        ("! wichtig", None),
        ("/hilfe@other_bot", None),
    ],
)
def test_parse_command(text: str, expected: Invocation | None) -> None:
    assert parse_command(text, frozenset({"kuemmerer_bot"})) == expected


def test_addressing_is_accepted_when_the_platform_has_no_bot_names() -> None:
    assert parse_command("/hilfe@anything") == Invocation("hilfe", "")


@pytest.mark.parametrize(
    ("raw", "folded"), [("Beschlüsse", "beschluesse"), ("ZIEL", "ziel"), ("Straße", "strasse")]
)
def test_normalise_name(raw: str, folded: str) -> None:
    assert normalise_name(raw) == folded


@pytest.mark.parametrize(
    ("token", "number"),
    [("3", 3), ("Nr.3", 3), ("nr. 12", 12), ("#4", 4), ("5.", 5), ("x", None), ("3a", None), ("٣", 3)],
)
def test_as_number(token: str, number: int | None) -> None:
    assert as_number(token) == number


@pytest.mark.parametrize(
    ("token", "key"),
    [
        ("-1", "error.number_invalid"),
        ("Nr. -3", "error.number_invalid"),
        ("1.5", "error.number_invalid"),
        ("1,5", "error.number_invalid"),
        ("1e9", "error.number_invalid"),
        ("0", "error.number_too_small"),
        ("2147483648", "error.number_too_large"),
        ("9223372036854775808", "error.number_too_large"),
        ("9" * 100_000, "error.number_too_large"),  # never handed to int() (refused beyond 4,300 digits)
    ],
)
def test_as_number_refuses_numbers_out_of_range(token: str, key: str) -> None:
    with pytest.raises(UserError) as raised:
        as_number(token)
    assert raised.value.key == key


def test_as_number_checks_a_range_of_its_own() -> None:
    assert as_number("365", high=365) == 365
    for token in ("0", "366", "-2", "99999999999999999999"):
        with pytest.raises(UserError) as raised:
            as_number(token, high=365)
        assert raised.value.key == "error.number_range" and raised.value.params["high"] == 365


def test_take_number_accepts_a_separate_nr_word() -> None:
    number, rest = Args("Nr. 7 neuer Text").take_number()
    assert number == 7 and rest.text == "neuer Text"
    with pytest.raises(UsageError) as missing:
        Args("").take_number()
    assert missing.value.key == "error.number_missing"
    with pytest.raises(UsageError) as word:
        Args("zwei").take_number()
    assert word.value.key == "error.number_expected"


def test_duplicate_registration_is_an_error() -> None:
    router = Router()

    @router.command("eins", aliases=("one",))
    async def one(ctx, args):  # pragma: no cover - never called
        pass

    with pytest.raises(ValueError):

        @router.command("one")
        async def again(ctx, args):  # pragma: no cover - never called
            pass

    with pytest.raises(ValueError):
        router.subcommand("eins", "x", aliases=("X",))(one)


def test_find_resolves_subcommands_by_any_alias() -> None:
    router = build_router()
    command, args = router.find(Invocation("decision", "REPLACE 3 neuer Text"))
    assert command.key == "cmd.beschluss.ersetzen" and args.text == "3 neuer Text"
    command, args = router.find(Invocation("beschluss", "Ersetzen wir alles"))
    assert command.key == "cmd.beschluss.ersetzen"  # the first word decides
    with pytest.raises(UserError) as error:
        router.find(Invocation("beschlus", ""))
    assert error.value.params["suggestion"] == "beschluss"


def test_every_command_has_german_name_and_english_alias() -> None:
    for command in build_router():
        if command.hidden:
            continue
        assert command.aliases, f"/{command.name} has no English alias"
        for sub in command.subcommands.values():
            assert sub.aliases, f"/{command.name} {sub.name} has no English alias"
