"""Every /usecase sub-command through signed requests, asserting on what Slack received."""

from __future__ import annotations

from datetime import timedelta

from bot.clock import ManualClock
from bot.simulator.simulator import Simulator
from tests.scenario.helpers import post_text, posts, reply_text, row_counts


async def test_new_announces_in_the_channel_and_replies_privately(sim: Simulator) -> None:
    step = await sim.command('/usecase new churn "Predict customer churn" domain="Customer care"')

    assert step.status == 200
    assert step.reply is not None and step.reply["response_type"] == "ephemeral"
    assert "Created *churn*" in reply_text(step)
    [announcement] = posts(sim)
    assert announcement["channel"] == "CGENERAL"
    assert "New use case *churn*" in post_text(announcement)
    assert "Owner <@UALICE>" in post_text(announcement)
    assert announcement["text"], "every message carries a plain-text fallback"


async def test_new_with_owner_and_channel_options(sim: Simulator) -> None:
    await sim.command('/usecase new fraud "Detect card fraud" channel=#ops owner=@bob')

    [announcement] = posts(sim)
    assert announcement["channel"] == "COPS"
    assert "Owner <@UBOB>" in post_text(announcement)
    show = await sim.command("/usecase show fraud")
    assert "*Owner:* <@UBOB>" in reply_text(show)
    assert "*Channel:* <#COPS>" in reply_text(show)


async def test_plain_names_are_resolved_through_the_web_api(sim: Simulator) -> None:
    """A mention Slack did not escape arrives as plain @name and is looked up with users.list."""
    await sim.command('/usecase new churn "Churn"')
    step = await sim.command("/usecase owner churn @dave", escape=False)

    assert "<@UDAVE> now owns *churn*" in reply_text(step)
    assert sim.fake.calls_to("users.list")
    unknown = await sim.command("/usecase owner churn @nobody", escape=False)
    assert "can't find a Slack user called @nobody" in reply_text(unknown)


async def test_names_on_a_later_page_are_found(sim: Simulator) -> None:
    """users.list and conversations.list answer in pages of 200: every page is read."""
    for i in range(250):
        sim.fake.add_user(f"member{i:03d}")
        sim.fake.add_channel(f"room{i:03d}")
    await sim.command('/usecase new churn "Churn" owner=@member249 channel=#room249', escape=False)

    [announcement] = posts(sim)
    assert announcement["channel"] == "CROOM249"
    assert "Owner <@UMEMBER249>" in post_text(announcement)
    for method in ("users.list", "conversations.list"):
        pages = sim.fake.calls_to(method)
        assert [c.args.get("limit") for c in pages] == ["200", "200"]
        assert pages[1].args["cursor"] == pages[0].response["response_metadata"]["next_cursor"]


async def test_escaped_mentions_with_ids_need_no_lookup(sim: Simulator) -> None:
    await sim.command('/usecase new churn "Churn"')
    step = await sim.command("/usecase team churn add <@UCAROL|carol> data-scientist", escape=False)

    assert "<@UCAROL> joined *churn* as data-scientist" in reply_text(step)
    assert not sim.fake.calls_to("users.list")


async def test_biz_to_ops_with_announcements_warnings_and_time_spent(
    sim: Simulator, clock: ManualClock
) -> None:
    await sim.command('/usecase new churn "Predict churn"')
    clock.advance(timedelta(days=10))
    await sim.command('/usecase advance churn "business case signed"')
    await sim.command("/usecase team churn add @carol data-scientist")
    clock.advance(timedelta(weeks=4))
    await sim.command("/usecase advance churn")

    _, to_dev, to_ops = posts(sim)
    assert "💼 Biz → 🛠️ Dev" in post_text(to_dev)
    assert "by <@UALICE>" in post_text(to_dev)
    assert "after 1 week 3 days in Biz" in post_text(to_dev)
    assert "business case signed" in post_text(to_dev)
    assert "without a data-scientist or a data-engineer" in post_text(to_dev)
    assert "🛠️ Dev → ⚙️ Ops" in post_text(to_ops)
    assert "after 4 weeks in Dev" in post_text(to_ops)
    assert "without a data-engineer or a devops" in post_text(to_ops)

    await sim.command("/usecase advance churn")
    assert "⚙️ Ops → ♾️ Continuous" in post_text(posts(sim)[-1])
    refused = await sim.command("/usecase advance churn")
    assert "cannot advance further" in reply_text(refused)


async def test_no_warning_when_the_team_has_the_roles(sim: Simulator) -> None:
    await sim.command('/usecase new churn "Churn"')
    await sim.command("/usecase team churn add @erin data-engineer")
    await sim.command("/usecase advance churn")
    await sim.command("/usecase advance churn")

    assert all("Warning" not in post_text(p) for p in posts(sim))


async def test_back_needs_a_reason_and_is_announced_as_a_feedback_loop(sim: Simulator) -> None:
    await sim.command('/usecase new churn "Churn"')
    await sim.command("/usecase advance churn")
    missing = await sim.command("/usecase back churn")
    assert "needs a reason" in reply_text(missing)
    assert '/usecase back <slug> \\"<reason>\\"' in reply_text(missing)

    await sim.command('/usecase back churn "the business question changed"')
    back = post_text(posts(sim)[-1])
    assert "went back (feedback loop)" in back
    assert "🛠️ Dev → 💼 Biz" in back
    assert "the business question changed" in back


async def test_show_has_team_history_and_overdue_flag(sim: Simulator, clock: ManualClock) -> None:
    await sim.command('/usecase new churn "Churn"')
    await sim.command("/usecase team churn add @carol data-scientist")
    await sim.command('/usecase advance churn "go"')
    clock.advance(timedelta(weeks=6, days=1))

    shown = reply_text(await sim.command("/usecase show churn"))
    assert "<@UCAROL> (data-scientist)" in shown
    assert "overdue" in shown
    assert shown.index("💼 Biz → 🛠️ Dev") < shown.index("created in 💼 Biz"), "newest first"
    listed = reply_text(await sim.command("/usecase list phase=dev"))
    assert "churn" in listed and "overdue" in listed


async def test_list_filters(sim: Simulator) -> None:
    await sim.command('/usecase new churn "Churn"')
    await sim.command('/usecase new fraud "Fraud" owner=@bob')
    await sim.command("/usecase advance fraud")
    await sim.command('/usecase new pricing "Pricing"')
    await sim.command('/usecase archive pricing "dropped by the business"')

    everything = reply_text(await sim.command("/usecase list"))
    assert "churn" in everything and "fraud" in everything and "pricing" not in everything
    assert "fraud" not in reply_text(await sim.command("/usecase list phase=biz"))
    assert "pricing" in reply_text(await sim.command("/usecase list phase=archived"))
    by_bob = reply_text(await sim.command("/usecase list owner=@bob"))
    assert "fraud" in by_bob and "churn" not in by_bob
    sim.switch_user("bob")
    mine = reply_text(await sim.command("/usecase list mine"))
    assert "fraud" in mine and "churn" not in mine


async def test_a_long_list_shows_the_first_50_and_says_how_to_narrow_it(sim: Simulator) -> None:
    for i in range(53):
        await sim.command(f'/usecase new uc-{i:02d} "Use case {i}"')
    await sim.command("/usecase advance uc-52")

    text = reply_text(await sim.command("/usecase list"))
    assert "Use cases (53)" in text
    assert "*uc-49*" in text and "*uc-50*" not in text  # the first 50 by slug
    assert "… and 3 more use cases (narrow it: `phase=dev`, `owner=@name`, `mine`)" in text
    narrowed = reply_text(await sim.command("/usecase list phase=dev"))
    assert "Use cases in" in narrowed and "*uc-52*" in narrowed and "more use cases" not in narrowed


async def test_owner_handover_keeps_exactly_one_owner(sim: Simulator) -> None:
    await sim.command('/usecase new churn "Churn" owner=@bob')
    sim.switch_user("bob")
    await sim.command("/usecase owner churn @carol")

    assert "new owner: <@UCAROL> (was <@UBOB>)" in post_text(posts(sim)[-1])
    refused = await sim.command("/usecase advance churn")
    assert "Only the owner <@UCAROL> or an admin" in reply_text(refused)


async def test_team_add_and_remove(sim: Simulator) -> None:
    await sim.command('/usecase new churn "Churn"')
    await sim.command("/usecase team churn add @carol data-scientist")
    await sim.command("/usecase team churn add @erin devops")
    removed = await sim.command("/usecase team churn remove @carol")

    assert "<@UCAROL> left the team of *churn*" in reply_text(removed)
    shown = reply_text(await sim.command("/usecase show churn"))
    assert "<@UERIN> (devops)" in shown and "UCAROL" not in shown
    again = await sim.command("/usecase team churn remove @carol")
    assert "is not on the team" in reply_text(again)


async def test_archive_keeps_history_and_blocks_changes(sim: Simulator) -> None:
    await sim.command('/usecase new churn "Churn"')
    await sim.command('/usecase archive churn "replaced by a vendor product"')

    assert "was archived" in post_text(posts(sim)[-1])
    assert "replaced by a vendor product" in post_text(posts(sim)[-1])
    refused = await sim.command("/usecase advance churn")
    assert "archived" in reply_text(refused)
    shown = reply_text(await sim.command("/usecase show churn"))
    assert "*Archived:* replaced by a vendor product" in shown


async def test_help(sim: Simulator) -> None:
    for text in ("/usecase help", "/usecase"):
        shown = reply_text(await sim.command(text))
        for verb in ("new", "list", "show", "advance", "back", "owner", "team", "archive"):
            assert f"/usecase {verb}" in shown


async def test_did_you_mean_for_a_mistyped_slug(sim: Simulator) -> None:
    await sim.command('/usecase new churn-model "Churn"')
    step = await sim.command("/usecase show churn-modle")
    assert "Did you mean `churn-model`?" in reply_text(step)


async def test_outsider_and_team_member_are_refused_and_nothing_changes(sim: Simulator) -> None:
    await sim.command('/usecase new churn "Churn" owner=@bob')
    await sim.command("/usecase team churn add @carol data-scientist")
    before = await row_counts(sim)
    for user in ("carol", "dave"):
        sim.switch_user(user)
        for text in ("/usecase advance churn", '/usecase back churn "x"', "/usecase owner churn @dave",
                     "/usecase team churn add @erin devops", '/usecase archive churn "x"'):
            step = await sim.command(text)
            assert "Only the owner <@UBOB> or an admin" in reply_text(step), text
    assert await row_counts(sim) == before
