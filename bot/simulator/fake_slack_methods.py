"""Slack Web API methods of the fake, one function per method over `SlackState`.

Each returns the method-specific fields of an `ok: true` answer or raises `SlackError` with
Slack's error code; shapes follow what slack_sdk and bolt read.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

from bot.simulator.fake_slack_conversations import CONVERSATION_METHODS, page
from bot.simulator.fake_slack_state import FakeMessage, Json, SlackError, SlackState
from bot.simulator.fake_slack_unfurls import UNFURL_METHODS


def handle(state: SlackState, method: str, args: Json) -> Json:
    """The full JSON answer for one call; raises SlackError for `ok: false` answers."""
    handler = _METHODS.get(method)
    if handler is None:
        raise SlackError("unknown_method")
    return {"ok": True, **handler(state, args)}


def _require(args: Json, key: str, error: str = "invalid_arguments") -> Any:
    value = args.get(key)
    if value in (None, ""):
        raise SlackError(error)
    return value



def normalise_blocks(blocks: Any, ts: str) -> list[dict]:
    """Fill in block_id/action_id like Slack does, so button payloads are complete."""
    if isinstance(blocks, str):
        blocks = json.loads(blocks)
    out: list[dict] = []
    for i, block in enumerate(blocks or []):
        block = dict(block)
        block.setdefault("block_id", f"b{ts.replace('.', '')[-6:]}{i}")
        elements = [block["accessory"]] if "accessory" in block else block.get("elements", [])
        for j, el in enumerate(elements):
            if isinstance(el, dict) and el.get("type") in ("button", "overflow", "static_select"):
                el.setdefault("action_id", f"{block['block_id']}-a{j}")
        out.append(block)
    return out


def _post_message(s: SlackState, args: Json) -> Json:
    channel = s.resolve_channel(args.get("channel"))
    if not args.get("text") and not args.get("blocks"):
        raise SlackError("no_text")
    ts = s.next_ts()
    msg = FakeMessage(channel, ts, args.get("text") or "", normalise_blocks(args.get("blocks"), ts),
                      args.get("thread_ts") or None, s.bot_user_id,
                      metadata=args.get("metadata") or None)
    s.messages.append(msg)
    return {"channel": channel, "ts": ts, "message": s.message_json(msg)}


def _history(s: SlackState, args: Json, *, replies: bool) -> Json:
    """conversations.history (top-level messages) and .replies (a thread), newest first. Only
    a conversation's id will do: unlike chat.postMessage, they do not take a user id for a DM."""
    if str(args.get("channel", "")) in s.users:
        raise SlackError("channel_not_found")
    channel = s.resolve_channel(args.get("channel"))
    oldest = float(args.get("oldest") or 0)
    thread = str(args.get("ts") or "")
    found = [m for m in s.messages if m.channel == channel and not m.ephemeral_for
             and float(m.ts) >= oldest
             and ((m.thread_ts == thread or m.ts == thread) if replies else m.thread_ts is None)]
    want_metadata = str(args.get("include_all_metadata", "")).lower() in ("true", "1")
    limit = int(args.get("limit") or 100)
    newest_first = sorted(found, key=lambda m: float(m.ts), reverse=not replies)[:limit]
    return {"messages": [s.message_json(m, metadata=want_metadata) for m in newest_first],
            "has_more": len(found) > limit, "response_metadata": {"next_cursor": ""}}


def _post_ephemeral(s: SlackState, args: Json) -> Json:
    channel = s.resolve_channel(args.get("channel"))
    user = _require(args, "user", "user_not_found")
    if user not in s.users:
        raise SlackError("user_not_found")
    if not args.get("text") and not args.get("blocks"):
        raise SlackError("no_text")
    ts = s.next_ts()
    s.messages.append(FakeMessage(channel, ts, args.get("text") or "",
                                  normalise_blocks(args.get("blocks"), ts),
                                  args.get("thread_ts") or None, s.bot_user_id, ephemeral_for=user))
    return {"message_ts": ts}


def _update(s: SlackState, args: Json) -> Json:
    # As Slack: a direct message is edited in its conversation (D…), never by the user's id.
    if str(args.get("channel", "")) in s.users:
        raise SlackError("channel_not_found")
    channel = s.resolve_channel(args.get("channel"))
    msg = s.find_message(channel, str(_require(args, "ts", "message_not_found")))
    if "text" in args:
        msg.text = args["text"] or ""
    if "blocks" in args:
        msg.blocks = normalise_blocks(args["blocks"], msg.ts)
    msg.edits += 1
    return {"channel": channel, "ts": msg.ts, "text": msg.text, "message": s.message_json(msg)}


def _delete(s: SlackState, args: Json) -> Json:
    channel = s.resolve_channel(args.get("channel"))
    s.messages.remove(s.find_message(channel, str(args.get("ts"))))
    return {"channel": channel, "ts": args.get("ts")}


def _permalink(s: SlackState, args: Json) -> Json:
    channel = s.resolve_channel(args.get("channel"))
    msg = s.find_message(channel, str(args.get("message_ts")))
    # Like real Slack: an https link on the workspace's domain (renderers only link https).
    workspace = s.team_id.lower()
    return {"channel": channel, "permalink":
            f"https://{workspace}.slack.com/archives/{channel}/p{msg.ts.replace('.', '')}"}


def _view_json(view: Any, view_id: str) -> Json:
    view = json.loads(view) if isinstance(view, str) else dict(view or {})
    return {**view, "id": view_id, "state": {"values": {}}, "hash": f"h{view_id}"}


def _views_open(s: SlackState, args: Json) -> Json:
    _require(args, "trigger_id")
    view = _view_json(_require(args, "view"), f"V{len(s.opened_views) + 1:04d}")
    s.opened_views.append(view)
    return {"view": view}


def _views_update(s: SlackState, args: Json) -> Json:
    key = args.get("view_id") or args.get("external_id")
    for i, old in enumerate(s.opened_views):
        if key in (old["id"], old.get("external_id")):
            s.opened_views[i] = _view_json(_require(args, "view"), old["id"])
            return {"view": s.opened_views[i]}
    raise SlackError("not_found")


def _views_publish(s: SlackState, args: Json) -> Json:
    user_id = _require(args, "user_id", "user_not_found")
    if user_id not in s.users:
        raise SlackError("user_not_found")
    s.views[user_id] = _view_json(_require(args, "view"), f"VHOME{user_id}")
    return {"view": s.views[user_id]}


def _users_info(s: SlackState, args: Json) -> Json:
    user = s.users.get(str(args.get("user")))
    if user is None:
        raise SlackError("user_not_found")
    return {"user": s.user_json(user)}


def _users_list(s: SlackState, args: Json) -> Json:
    return page("members", [s.user_json(u) for u in s.users.values()], args)


def _usergroups_list(s: SlackState, args: Json) -> Json:
    groups = [{"id": gid, "team_id": s.team_id, "handle": handle, "name": handle,
               "users": members, "user_count": len(members)}
              for gid, (handle, members) in s.usergroups.items()]
    return {"usergroups": groups}


def _usergroups_users(s: SlackState, args: Json) -> Json:
    group = s.usergroups.get(str(args.get("usergroup")))
    if group is None:
        raise SlackError("no_such_subteam")
    return {"users": list(group[1])}


def _auth_test(s: SlackState, args: Json) -> Json:
    return {"url": f"{s._base_url()}/", "team": "Simulated Workspace", "user": "bizdevops",
            "team_id": s.team_id, "user_id": s.bot_user_id, "bot_id": "B0BOT",
            "is_enterprise_install": False}


def _get_upload_url(s: SlackState, args: Json) -> Json:
    filename = _require(args, "filename")
    length = int(_require(args, "length"))
    file_id = f"F{len(s.pending_files) + len(s.uploads) + 1:06d}"
    s.pending_files[file_id] = {"filename": filename, "length": length, "content": None,
                                "alt_txt": args.get("alt_txt") or ""}
    return {"upload_url": f"{s._base_url()}/upload/{file_id}", "file_id": file_id}


def _complete_upload(s: SlackState, args: Json) -> Json:
    files = _require(args, "files")
    files = json.loads(files) if isinstance(files, str) else files
    channel = s.resolve_channel(args["channel_id"]) if args.get("channel_id") else None
    done = []
    for item in files:
        pending = s.pending_files.get(item.get("id", ""))
        if pending is None or pending["content"] is None:
            raise SlackError("file_not_found")
        title = item.get("title") or pending["filename"]
        s.uploads.append({"file_id": item["id"], "filename": pending["filename"], "title": title,
                          "channel_id": channel, "content": pending["content"],
                          "alt_txt": pending["alt_txt"]})
        del s.pending_files[item["id"]]
        done.append({"id": item["id"], "name": pending["filename"], "title": title})
    if channel:
        lines = [args["initial_comment"]] if args.get("initial_comment") else []
        lines += [f"uploaded file {f['title']}" for f in done]
        s.messages.append(FakeMessage(channel, s.next_ts(), "\n".join(lines), [],
                                      args.get("thread_ts") or None, s.bot_user_id))
    return {"files": done}


_METHODS: dict[str, Callable[[SlackState, Json], Json]] = {
    "auth.test": _auth_test,
    "chat.postMessage": _post_message,
    "chat.postEphemeral": _post_ephemeral,
    "chat.update": _update,
    "chat.delete": _delete,
    "chat.getPermalink": _permalink,
    "views.open": _views_open,
    "views.update": _views_update,
    "views.publish": _views_publish,
    "users.info": _users_info,
    "users.list": _users_list,
    "conversations.history": lambda s, args: _history(s, args, replies=False),
    "conversations.replies": lambda s, args: _history(s, args, replies=True),
    **CONVERSATION_METHODS,
    **UNFURL_METHODS,
    "usergroups.list": _usergroups_list,
    "usergroups.users.list": _usergroups_users,
    "files.getUploadURLExternal": _get_upload_url,
    "files.completeUploadExternal": _complete_upload,
}
