"""The `/usecase` grammar and the shared parsing helpers: text in, command dataclass out."""

from __future__ import annotations

import pytest

from bot.domain.usecases import Phase, Role
from bot.services.commands import (
    AddTeamMember,
    AdvanceUseCase,
    ArchiveUseCase,
    ChannelRef,
    HandOver,
    ListUseCases,
    MoveBack,
    NewUseCase,
    NewUseCaseDialog,
    RemoveTeamMember,
    ShowUseCase,
    UserRef,
)
from handlers.grammar.parsing import UsageError, parse_channel, parse_user, plain_text, split, tokenize
from handlers.grammar.usecase_grammar import HELP, USAGE, HelpRequested, parse_usecase

BOB = UserRef("U123", "bob")
PLAIN_BOB = UserRef(None, "bob")
OPS = ChannelRef("C1", "ops")
PLAIN_OPS = ChannelRef(None, "ops")


@pytest.mark.parametrize(
    ("text", "command"),
    [
        # new
        ('new churn "Predict churn"', NewUseCase("churn", "Predict churn")),
        ("new churn Predict churn", NewUseCase("churn", "Predict churn")),
        ("new churn “Predict churn”", NewUseCase("churn", "Predict churn")),
        ("NEW churn „Predict churn”", NewUseCase("churn", "Predict churn")),
        ('  new   churn   "  Predict   churn "  ', NewUseCase("churn", "Predict   churn")),
        (
            'new churn "Predict churn" domain="Retail banking" owner=<@U123|bob> channel=<#C1|ops>',
            NewUseCase("churn", "Predict churn", "Retail banking", BOB, OPS),
        ),
        (
            'new churn "Predict churn" channel=#ops owner=@bob domain=retail',
            NewUseCase("churn", "Predict churn", "retail", PLAIN_BOB, PLAIN_OPS),
        ),
        (
            'new churn channel=<#C1|ops> "Predict churn" domain=“Retail banking”',
            NewUseCase("churn", "Predict churn", "Retail banking", None, OPS),
        ),
        ('new churn "t" owner=@Bob', NewUseCase("churn", "t", owner=PLAIN_BOB)),
        ('new churn "t" owner=<@W9>', NewUseCase("churn", "t", owner=UserRef("W9", ""))),
        ('new churn "t" channel=<#G7>', NewUseCase("churn", "t", channel=ChannelRef("G7", ""))),
        ('new churn "Ping <@U9|eve> in <#C2|dev>"', NewUseCase("churn", "Ping @eve in #dev")),
        ('new churn "a &lt;b&gt; &amp; c"', NewUseCase("churn", "a <b> & c")),
        # list
        ("list", ListUseCases()),
        ("list mine", ListUseCases(mine=True)),
        ("list phase=dev", ListUseCases(phase=Phase.DEV)),
        ("list phase=Archived", ListUseCases(phase=Phase.ARCHIVED)),
        ("list owner=@bob", ListUseCases(owner=PLAIN_BOB)),
        ("list owner=<@U123|bob> phase=ops mine", ListUseCases(Phase.OPS, BOB, True)),
        ("list mine phase=continuous owner=@bob", ListUseCases(Phase.CONTINUOUS, PLAIN_BOB, True)),
        # show / advance / back / archive
        ("show churn", ShowUseCase("churn")),
        ("Show churn", ShowUseCase("churn")),
        ("advance churn", AdvanceUseCase("churn", "")),
        ('advance churn "ready for dev"', AdvanceUseCase("churn", "ready for dev")),
        ("advance churn “signed by <@U123|bob>”", AdvanceUseCase("churn", "signed by @bob")),
        ('back churn "KPI is not measurable"', MoveBack("churn", "KPI is not measurable")),
        ("back churn data is stale", MoveBack("churn", "data is stale")),
        ('archive churn "superseded by v2"', ArchiveUseCase("churn", "superseded by v2")),
        # owner
        ("owner churn <@U123|bob>", HandOver("churn", BOB)),
        ("owner churn @bob", HandOver("churn", PLAIN_BOB)),
        ("owner churn <@U123>", HandOver("churn", UserRef("U123", ""))),
        # team
        ("team churn add <@U123|bob> data-scientist",
         AddTeamMember("churn", BOB, Role.DATA_SCIENTIST)),
        ("team churn add @bob DevOps", AddTeamMember("churn", PLAIN_BOB, Role.DEVOPS)),
        ("team churn ADD @bob business", AddTeamMember("churn", PLAIN_BOB, Role.BUSINESS)),
        ("team churn add @bob data-engineer",
         AddTeamMember("churn", PLAIN_BOB, Role.DATA_ENGINEER)),
        ("team churn remove <@U123|bob>", RemoveTeamMember("churn", BOB)),
        ("team churn remove @bob", RemoveTeamMember("churn", PLAIN_BOB)),
    ],
)
def test_parses(text: str, command: object) -> None:
    assert parse_usecase(text) == command


@pytest.mark.parametrize("text", ["", "   ", "help", "HELP", "-h", "--help", "help new"])
def test_help(text: str) -> None:
    with pytest.raises(HelpRequested):
        parse_usecase(text)


def test_help_lists_every_sub_command() -> None:
    assert [usage for usage, _ in HELP] == list(USAGE.values())
    assert all(usage.startswith(f"/usecase {verb} ") for verb, usage in USAGE.items())


@pytest.mark.parametrize(
    ("text", "verb", "fragment"),
    [
        ("frob churn", None, "Unknown sub-command `frob`"),
        ("show", "show", "slug is missing"),
        ("advance", "advance", "slug is missing"),
        ("back", "back", "slug is missing"),
        ("owner", "owner", "slug is missing"),
        ("team", "team", "slug is missing"),
        ("archive", "archive", "slug is missing"),
        ("new churn", "new", "title is missing"),
        ('new churn ""', "new", "title is missing"),
        ('new churn "Predict churn', "new", "quote is not closed"),
        ("new churn “Predict churn", "new", "quote is not closed"),
        ('advance churn "ready', "advance", "quote is not closed"),
        ('new churn "t" foo=bar', "new", "Unknown option `foo=`"),
        ("show churn foo=bar", "show", "Unknown option `foo=` (known: none)"),
        ("list mine=yes", "list", "Unknown option `mine=`"),
        ('new churn "t" domain=a domain=b', "new", "`domain=` is given twice"),
        ("list phase=dev phase=ops", "list", "`phase=` is given twice"),
        ("team churn add @bob wizard", "team", "Unknown role `wizard`"),
        ("list phase=later", "list", "Unknown phase `later`"),
        ("list phase=", "list", "Unknown phase"),
        ("owner churn @bob @eve", "owner", "exactly one new owner"),
        ("owner churn <@U1|bob> <@U2|eve>", "owner", "exactly one new owner"),
        ("owner churn", "owner", "exactly one new owner"),
        ("team churn x frob", "team", "Say `add @user <role>` or `remove @user`"),
        ("team churn frob", "team", "Say `add @user <role>` or `remove @user`"),
        ("team churn", "team", "Say `add @user <role>` or `remove @user`"),
        ("team churn add @bob", "team", "Say `add @user <role>` or `remove @user`"),
        ("team churn add @bob devops extra", "team", "Say `add @user <role>`"),
        ("team churn remove", "team", "Say `add @user <role>` or `remove @user`"),
        ("team churn remove @bob @eve", "team", "Say `add @user <role>` or `remove @user`"),
        ("back churn", "back", "needs a reason"),
        ('back churn "  "', "back", "needs a reason"),
        ("archive churn", "archive", "needs a reason"),
        ("owner churn bob", "owner", "`bob` is not a user"),
        ("owner churn <#C1|ops>", "owner", "`#ops` is not a user"),
        ("team churn add bob devops", "team", "`bob` is not a user"),
        ("team churn remove U123", "team", "`U123` is not a user"),
        ('new churn "t" owner=bob', "new", "`bob` is not a user"),
        ('new churn "t" owner=', "new", "is not a user"),
        ("list owner=bob", "list", "`bob` is not a user"),
        ('new churn "t" channel=ops', "new", "`ops` is not a channel"),
        ('new churn "t" channel=@ops', "new", "`@ops` is not a channel"),
        ("list churn", "list", "Unexpected `churn`"),
        ("show churn extra words", "show", "Unexpected `extra words` after the slug"),
    ],
)
def test_usage_errors_carry_the_usage_line(text: str, verb: str | None, fragment: str) -> None:
    with pytest.raises(UsageError) as bad:
        parse_usecase(text)
    assert fragment in str(bad.value)
    assert bad.value.usage == (USAGE[verb] if verb else "/usecase help")


def test_unknown_sub_command_suggests_the_known_ones() -> None:
    with pytest.raises(UsageError) as bad:
        parse_usecase("lsit")
    assert all(verb in str(bad.value) for verb in USAGE)


@pytest.mark.parametrize(
    ("text", "command"),
    [
        ('new churn "ratio=2 model"', NewUseCase("churn", "ratio=2 model")),
        ('advance churn "eta=friday"', AdvanceUseCase("churn", "eta=friday")),
    ],
)
def test_quoted_text_is_never_an_option(text: str, command: object) -> None:
    assert parse_usecase(text) == command


# ── the helpers ──────────────────────────────────────────────────────────────────────────────

@pytest.mark.parametrize(
    ("text", "tokens"),
    [
        ("", []),
        ("a  b\tc", ["a", "b", "c"]),
        ('a "b c" d', ["a", "b c", "d"]),
        ('key="two words" x', ["key=two words", "x"]),
        ('""', [""]),
        ("“smart quotes” ‘single’", ["smart quotes", "'single'"]),
        ('ab"c d"e', ["abc de"]),
    ],
)
def test_tokenize(text: str, tokens: list[str]) -> None:
    assert [word.text for word in tokenize(text)] == tokens


def test_tokenize_unclosed_quote_carries_the_usage() -> None:
    with pytest.raises(UsageError) as bad:
        tokenize('"open', usage="/x <y>")
    assert bad.value.usage == "/x <y>"


def test_split_positional_options_and_flags() -> None:
    tokens = split('a mine k="v w" b', allowed=frozenset({"k"}), flags=frozenset({"mine"}))
    assert (tokens.positional, tokens.options, tokens.flags) == (["a", "b"], {"k": "v w"}, {"mine"})
    # only lowercase word keys are options; anything else stays positional text
    assert split("A=b 2=3 x-y=z", allowed=frozenset()).positional == ["A=b", "2=3", "x-y=z"]


@pytest.mark.parametrize(
    ("token", "user"),
    [("<@U123|bob>", BOB), ("<@U123>", UserRef("U123", "")),
     ("<@W0ABC|a.b>", UserRef("W0ABC", "a.b")), ("@bob", PLAIN_BOB),
     ("@Bob.Smith-2", UserRef(None, "bob.smith-2"))],
)
def test_parse_user(token: str, user: UserRef) -> None:
    assert parse_user(token) == user


@pytest.mark.parametrize("token", ["bob", "@", "<@u123|bob>", "<#C1|ops>", "@bob!", "<!channel>"])
def test_parse_user_refuses_non_mentions(token: str) -> None:
    with pytest.raises(UsageError, match="is not a user"):
        parse_user(token, usage="u")


@pytest.mark.parametrize(
    ("token", "channel"),
    [("<#C1|ops>", OPS), ("<#C1>", ChannelRef("C1", "")), ("#ops", PLAIN_OPS),
     ("#data_team-1", ChannelRef(None, "data_team-1"))],
)
def test_parse_channel(token: str, channel: ChannelRef) -> None:
    assert parse_channel(token) == channel


@pytest.mark.parametrize("token", ["ops", "#", "<@U1|bob>", "<#x1|ops>"])
def test_parse_channel_refuses_non_channels(token: str) -> None:
    with pytest.raises(UsageError, match="is not a channel"):
        parse_channel(token)


@pytest.mark.parametrize(
    ("text", "plain"),
    [
        ("<!channel>", "@channel"),
        ("<!here|here> and <!everyone>", "@here and @everyone"),
        ("<@U1|bob>", "@bob"),
        ("<@U1>", "@U1"),
        ("<#C1|ops> <#C2>", "#ops #C2"),
        ("<!subteam^S1|@release-managers> <!subteam^S2>", "@release-managers @S2"),
        ("<https://x.io|docs> <https://y.io> <mailto:a@b.c|mail>", "docs https://y.io mail"),
        ("&lt;", "<"),
        ("a &lt;b&gt; &amp; &amp;lt;", "a <b> & &lt;"),
        ("  padded  ", "padded"),
    ],
)
def test_plain_text(text: str, plain: str) -> None:
    assert plain_text(text) == plain


def test_new_without_arguments_asks_for_the_dialog() -> None:
    assert parse_usecase("new") == NewUseCaseDialog()
    assert parse_usecase("new   ") == NewUseCaseDialog()
