"""The pages around Sign in with Slack, in words: sign-in is off (and how to turn it on), a
sign-in refused (what happened, what to do), signed out. Plain HTML with every value escaped;
no script and no inline style (the dashboard's Content-Security-Policy allows neither)."""

from __future__ import annotations

from html import escape
from urllib.parse import quote

from bot.domain.signin import SignInProblem

LOGIN = "/login"


def _page(title: str, *paragraphs: str) -> str:
    """A whole page; ``paragraphs`` are HTML already (their values escaped by the caller)."""
    body = "\n".join(f"<p>{p}</p>" for p in paragraphs)
    return (f'<!doctype html>\n<html lang="en">\n<head>\n<meta charset="utf-8">\n'
            f'<meta name="viewport" content="width=device-width, initial-scale=1">\n'
            f"<title>{escape(title)} · bizdevops</title>\n"
            '<link rel="stylesheet" href="/static/dashboard.css">\n</head>\n<body>\n<main>\n'
            f"<h1>{escape(title)}</h1>\n{body}\n</main>\n</body>\n</html>\n")


def _sign_in_link(next_path: str = "/") -> str:
    href = LOGIN if next_path == "/" else f"{LOGIN}?next={quote(next_path, safe='/')}"
    return f'<a href="{escape(href)}">Sign in with Slack</a>'


def signin_off(redirect_url: str) -> str:
    """``/`` while SLACK_CLIENT_ID and SLACK_CLIENT_SECRET are not set: no data, only how."""
    return _page(
        "The dashboard needs Sign in with Slack",
        "The dashboard shows use cases, deployments and the audit trail only to people signed "
        "in with Slack, and sign-in is off: <code>SLACK_CLIENT_ID</code> and "
        "<code>SLACK_CLIENT_SECRET</code> are not set.",
        "To turn it on: in your Slack app's settings, under <strong>OAuth &amp; "
        f"Permissions</strong> → <strong>Redirect URLs</strong>, add <code>{escape(redirect_url)}"
        "</code> (<code>bizdevops manifest --url …</code> includes it). Then copy the "
        "<strong>Client ID</strong> and <strong>Client Secret</strong> from <strong>Basic "
        "Information</strong> → <strong>App Credentials</strong> into the bot's environment as "
        "<code>SLACK_CLIENT_ID</code> and <code>SLACK_CLIENT_SECRET</code>, and restart it.",
    )


_REFUSED: dict[SignInProblem, tuple[str, str]] = {
    SignInProblem.STALE: (
        "This sign-in has expired or began in another browser",
        "A sign-in works for 10 minutes, in the browser that started it. Start again here: "),
    SignInProblem.REPLAYED: (
        "This sign-in was used already",
        "Each sign-in link works once. Start a new one: "),
    SignInProblem.SLACK_SAID_NO: (
        "Slack did not sign you in",
        "If you cancelled at Slack, nothing more is needed. Otherwise try again; if it keeps "
        "failing, ask whoever runs the bot to check its Client ID, Client Secret and redirect "
        "URL in the Slack app's settings. "),
    SignInProblem.TOKEN_MISMATCH: (
        "Slack's answer did not match this sign-in",
        "Nothing was signed in. Start again from this browser: "),
    SignInProblem.OTHER_TEAM: (
        "This dashboard belongs to another Slack workspace",
        "You signed in with a workspace this bot is not installed in. In Slack, switch to the "
        "workspace the bot serves, then "),
    SignInProblem.UNREACHABLE: (
        "Slack could not be reached",
        "The bot could not finish your sign-in with Slack just now. Wait a minute, then "),
}


def signin_refused(problem: SignInProblem, detail: str = "", next_path: str = "/") -> str:
    title, advice = _REFUSED[problem]
    said = f"Slack answered <code>{escape(detail)}</code>." if detail else ""
    return _page(title, *([said] if said else []), advice + _sign_in_link(next_path) + ".")


def signed_out() -> str:
    return _page("You are signed out",
                 "Your dashboard session has ended in this browser. " + _sign_in_link() + " again "
                 "whenever you like.")


def sign_out_refused() -> str:
    return _page("Sign out from the dashboard itself",
                 "Another site asked to sign you out; nothing was changed. Use the dashboard's own "
                 "Sign out button.")


def method_not_allowed() -> str:
    return _page("Nothing can be changed here",
                 "The dashboard only shows; it takes no changes. Use the bot in Slack for those.")
