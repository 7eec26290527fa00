"""The fake Slack Web API driven through the real slack_sdk async client."""

from __future__ import annotations

from collections.abc import AsyncIterator

import aiohttp
import pytest
from slack_sdk.errors import SlackApiError
from slack_sdk.web.async_client import AsyncWebClient

from bot.simulator.fake_slack import FakeSlack, Fault, RecordedCall

TOKEN = "xoxb-test"


@pytest.fixture
async def fake() -> AsyncIterator[FakeSlack]:
    slack = FakeSlack(bot_token=TOKEN)
    slack.add_user("alice")
    slack.add_user("bob", real_name="Bob Builder")
    slack.add_channel("ops")
    await slack.start()
    yield slack
    await slack.stop()


@pytest.fixture
async def client(fake: FakeSlack) -> AsyncIterator[AsyncWebClient]:
    # retry_handlers=[] so injected faults surface instead of being retried away.
    async with aiohttp.ClientSession() as session:
        yield AsyncWebClient(token=TOKEN, base_url=fake.api_url, session=session,
                             retry_handlers=[])


async def test_auth_test_reports_bot_identity(fake: FakeSlack, client: AsyncWebClient) -> None:
    resp = await client.auth_test()
    assert resp["user_id"] == "U0BOT"
    assert resp["team_id"] == "T0SIM"
    assert resp["bot_id"] == "B0BOT"


async def test_wrong_token_is_invalid_auth(fake: FakeSlack) -> None:
    async with aiohttp.ClientSession() as session:
        bad = AsyncWebClient(token="xoxb-wrong", base_url=fake.api_url, session=session)
        with pytest.raises(SlackApiError) as err:
            await bad.auth_test()
    assert err.value.response["error"] == "invalid_auth"


async def test_post_update_permalink(fake: FakeSlack, client: AsyncWebClient) -> None:
    blocks = [{"type": "section", "text": {"type": "mrkdwn", "text": "*hi*"}}]
    first = await client.chat_postMessage(channel="#ops", text="hi", blocks=blocks)
    second = await client.chat_postMessage(channel="COPS", text="again", thread_ts=first["ts"])
    assert first["channel"] == "COPS"
    assert float(second["ts"]) > float(first["ts"])
    assert first["message"]["blocks"][0]["block_id"]  # filled in, as Slack does

    await client.chat_update(channel="COPS", ts=first["ts"], text="edited", blocks=[])
    link = await client.chat_getPermalink(channel="COPS", message_ts=first["ts"])

    msgs = fake.messages("ops")
    assert [(m.text, m.edits) for m in msgs] == [("edited", 1), ("again", 0)]
    assert msgs[1].thread_ts == first["ts"]
    assert link["permalink"] == f"https://t0sim.slack.com/archives/COPS/p{first['ts'].replace('.', '')}"
    assert fake.calls_to("chat.postMessage")[0].args["blocks"] == blocks


async def test_unknown_channel_and_message(client: AsyncWebClient) -> None:
    with pytest.raises(SlackApiError) as err:
        await client.chat_postMessage(channel="#nowhere", text="x")
    assert err.value.response["error"] == "channel_not_found"
    with pytest.raises(SlackApiError) as err:
        await client.chat_update(channel="COPS", ts="1.000001", text="x")
    assert err.value.response["error"] == "message_not_found"


async def test_ephemeral_and_dm(fake: FakeSlack, client: AsyncWebClient) -> None:
    resp = await client.chat_postEphemeral(channel="COPS", user="UBOB", text="psst")
    await client.chat_postMessage(channel="UALICE", text="dm")
    eph = fake.messages("COPS")[0]
    assert (eph.ephemeral_for, eph.ts) == ("UBOB", resp["message_ts"])
    assert fake.messages("DALICE")[0].text == "dm"


async def test_users(client: AsyncWebClient) -> None:
    info = await client.users_info(user="UBOB")
    assert info["user"]["name"] == "bob"
    assert info["user"]["profile"]["real_name"] == "Bob Builder"
    members = await client.users_list()
    assert {m["id"] for m in members["members"]} == {"U0BOT", "UALICE", "UBOB"}
    assert members["response_metadata"]["next_cursor"] == ""
    with pytest.raises(SlackApiError) as err:
        await client.users_info(user="UNOBODY")
    assert err.value.response["error"] == "user_not_found"


async def test_lists_come_in_pages_with_a_cursor(fake: FakeSlack, client: AsyncWebClient) -> None:
    for i in range(3):
        fake.add_user(f"user{i}")
        fake.add_channel(f"chan{i}")
    pages = [page async for page in await client.users_list(limit=2)]
    assert [len(p["members"]) for p in pages] == [2, 2, 2]  # U0BOT, alice, bob and three more
    assert [c.args.get("cursor") is None for c in fake.calls_to("users.list")] == [True, False, False]
    assert pages[-1]["response_metadata"]["next_cursor"] == ""
    everyone = await client.users_list()  # without a limit: all on one page
    assert [m["id"] for m in everyone["members"]] == [
        "U0BOT", "UALICE", "UBOB", "UUSER0", "UUSER1", "UUSER2"]
    channels = [c["name"] async for page in await client.conversations_list(limit=3)
                for c in page["channels"]]
    assert channels == ["ops", "chan0", "chan1", "chan2"]
    with pytest.raises(SlackApiError) as err:
        await client.users_list(limit=2, cursor="not a cursor")
    assert err.value.response["error"] == "invalid_cursor"


async def test_channels_and_usergroups(fake: FakeSlack, client: AsyncWebClient) -> None:
    gid = fake.add_usergroup("release-managers", ["UALICE"])
    chans = await client.conversations_list()
    assert [c["name"] for c in chans["channels"]] == ["ops"]
    assert (await client.conversations_info(channel="COPS"))["channel"]["is_member"] is True
    groups = await client.usergroups_list()
    assert groups["usergroups"][0]["handle"] == "release-managers"
    assert (await client.usergroups_users_list(usergroup=gid))["users"] == ["UALICE"]


async def test_views(fake: FakeSlack, client: AsyncWebClient) -> None:
    home = {"type": "home", "blocks": []}
    await client.views_publish(user_id="UALICE", view=home)
    opened = await client.views_open(trigger_id="t1", view={"type": "modal", "blocks": []})
    await client.views_update(view_id=opened["view"]["id"], view={"type": "modal", "blocks": [
        {"type": "divider"}]})
    assert fake.views["UALICE"]["type"] == "home"
    assert fake.opened_views[0]["blocks"] == [{"type": "divider"}]


async def test_injected_500(fake: FakeSlack, client: AsyncWebClient) -> None:
    fake.inject("chat.postMessage", Fault(status=500))
    with pytest.raises(SlackApiError) as err:
        await client.chat_postMessage(channel="COPS", text="x")
    assert err.value.response.status_code == 500
    assert err.value.response["error"] == "internal_error"
    await client.chat_postMessage(channel="COPS", text="x")  # only the next call fails
    statuses = [c.status for c in fake.calls_to("chat.postMessage", ok_only=False)]
    assert statuses == [500, 200]
    assert len(fake.calls_to("chat.postMessage")) == 1


async def test_injected_429_carries_retry_after(fake: FakeSlack, client: AsyncWebClient) -> None:
    fake.inject("chat.postMessage", Fault(status=429, retry_after=7))
    with pytest.raises(SlackApiError) as err:
        await client.chat_postMessage(channel="COPS", text="x")
    assert err.value.response.status_code == 429
    assert err.value.response.headers["Retry-After"] == "7"
    assert err.value.response["error"] == "ratelimited"


async def test_dropped_connection(fake: FakeSlack, client: AsyncWebClient) -> None:
    fake.inject("chat.postMessage", Fault(drop_connection=True))
    with pytest.raises(aiohttp.ClientError):
        await client.chat_postMessage(channel="COPS", text="lost")
    assert (fake.calls[-1].method, fake.calls[-1].status) == ("chat.postMessage", 0)
    assert fake.messages() == []


async def test_dropped_connection_on_get_needs_two_faults(
    fake: FakeSlack, client: AsyncWebClient
) -> None:
    # users.info goes out as GET; aiohttp silently retries an idempotent request once.
    fake.inject("users.info", Fault(drop_connection=True), Fault(drop_connection=True))
    with pytest.raises(aiohttp.ClientError):
        await client.users_info(user="UBOB")
    assert len(fake.calls_to("users.info", ok_only=False)) == 2
    assert (await client.users_info(user="UBOB"))["ok"] is True


async def test_unknown_method(client: AsyncWebClient) -> None:
    with pytest.raises(SlackApiError) as err:
        await client.api_call("nope.nothing")
    assert err.value.response["error"] == "unknown_method"


async def test_files_upload_v2_stores_bytes(fake: FakeSlack, client: AsyncWebClient) -> None:
    resp = await client.files_upload_v2(channel="COPS", filename="report.csv",
                                        content=b"a,b\n1,2\n", title="Report",
                                        alt_txt="two columns", initial_comment="weekly")
    assert resp["file"]["title"] == "Report"
    assert fake.uploads == [{"file_id": resp["file"]["id"], "filename": "report.csv",
                             "title": "Report", "channel_id": "COPS",
                             "content": b"a,b\n1,2\n", "alt_txt": "two columns"}]
    assert fake.messages("COPS")[-1].text == "weekly\nuploaded file Report"


async def test_response_url_posts(fake: FakeSlack) -> None:
    posted = await fake_post(fake)
    seen: list[RecordedCall] = []
    fake.subscribe(seen.append)
    url = fake.new_response_url(channel="COPS", user_id="UALICE", message_ts=posted)
    async with aiohttp.ClientSession() as session:
        async with session.post(url, json={"text": "only you"}) as resp:
            assert resp.status == 200
        async with session.post(url, json={"replace_original": True, "text": "new"}) as resp:
            assert resp.status == 200
    assert [body["text"] for _, body in fake.response_posts] == ["only you", "new"]
    texts = [(m.text, m.ephemeral_for) for m in fake.messages("COPS")]
    assert texts == [("new", None), ("only you", "UALICE")]
    assert [c.method for c in seen] == ["response_url", "response_url"]


async def fake_post(fake: FakeSlack) -> str:
    async with aiohttp.ClientSession() as session:
        client = AsyncWebClient(token=TOKEN, base_url=fake.api_url, session=session)
        return (await client.chat_postMessage(channel="COPS", text="orig"))["ts"]


async def test_form_post_with_token_param_and_multipart_upload(fake: FakeSlack) -> None:
    async with aiohttp.ClientSession() as session:
        form = {"token": TOKEN, "channel": "COPS", "text": "via form",
                "blocks": '[{"type": "divider"}]'}
        async with session.post(fake.api_url + "chat.postMessage", data=form) as resp:
            assert (await resp.json())["ok"] is True
        async with session.get(fake.api_url + "files.getUploadURLExternal",
                               params={"token": TOKEN, "filename": "a.txt", "length": 3}) as resp:
            upload = await resp.json()
        data = aiohttp.FormData()
        data.add_field("file", b"abc", filename="a.txt")
        async with session.post(upload["upload_url"], data=data) as resp:
            assert resp.status == 200
        files = f'[{{"id": "{upload["file_id"]}", "title": "A"}}]'
        async with session.post(fake.api_url + "files.completeUploadExternal",
                                data={"token": TOKEN, "files": files}) as resp:
            assert (await resp.json())["files"][0]["title"] == "A"
    assert fake.messages("COPS")[0].blocks[0]["type"] == "divider"
    assert fake.calls_to("chat.postMessage")[0].args["blocks"][0]["type"] == "divider"
    assert "token" not in fake.calls_to("chat.postMessage")[0].args
    assert fake.uploads[0]["content"] == b"abc"


async def test_conversations_say_who_is_private_and_who_is_in(
    fake: FakeSlack, client: AsyncWebClient,
) -> None:
    deals = fake.add_channel("deals", private=True, members=["UALICE", "UBOB"])
    group = fake.add_channel("mpdm-alice--bob-1", mpim=True, members=["UALICE", "UBOB"])
    fake.add_channel("hidden", private=True, members=["UALICE"], bot_invited=False)
    dm = (await client.conversations_open(users="UALICE"))["channel"]["id"]

    def flags(info: dict) -> tuple[bool, bool, bool]:
        channel = info["channel"]
        return channel.get("is_private", False), channel.get("is_mpim", False), channel["is_im"]

    assert flags(await client.conversations_info(channel="COPS")) == (False, False, False)
    assert flags(await client.conversations_info(channel=deals.id)) == (True, False, False)
    assert group.id.startswith("G")
    assert flags(await client.conversations_info(channel=group.id)) == (True, True, False)
    assert flags(await client.conversations_info(channel=dm)) == (False, False, True)
    # Members come in pages (100 unless asked otherwise), the bot among them where it is in.
    pages = [p["members"] async for p in await client.conversations_members(channel=deals.id,
                                                                            limit=2)]
    assert pages == [["UALICE", "UBOB"], ["U0BOT"]]
    assert (await client.conversations_members(channel="COPS"))["members"] == [
        "U0BOT", "UALICE", "UBOB"]  # a public channel: everyone
    assert (await client.conversations_members(channel=dm))["members"] == ["UALICE", "U0BOT"]
    # A private channel without the bot does not exist for it; nor does a user's id.
    for method, channel in ((client.conversations_info, "CHIDDEN"),
                            (client.conversations_members, "CHIDDEN"),
                            (client.conversations_info, "CNOPE"),
                            (client.conversations_members, "UALICE"),
                            (client.chat_postMessage, "CHIDDEN")):
        with pytest.raises(SlackApiError) as err:
            await method(channel=channel, text="x")
        assert err.value.response["error"] == "channel_not_found"
    listed = [c["name"] async for page in await client.conversations_list(
        types="public_channel,private_channel") for c in page["channels"]]
    assert listed == ["ops", "deals"]  # not the group DM, nor what the bot is not in
