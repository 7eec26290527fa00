"""Where the web dashboard shows a use case and its deployments (SPEC "Web dashboard"), both
ways: the address a message links to, and which use case a pasted address is about (unfurls).

``base`` is the public URL (``BIZDEVOPS_PUBLIC_URL``, no trailing slash). Pure: no I/O, no words.
"""

from __future__ import annotations

from urllib.parse import quote, unquote, urlsplit

from bot.domain.usecases import SLUG_RE

USE_CASES = "/use-cases/"
_DEFAULT_PORTS = {"http": 80, "https": 443}


def use_case_url(base: str, slug: str) -> str:
    """The use case's page: its story, KPIs and deployments."""
    return f"{base}{USE_CASES}{slug}"


def portfolio_url(base: str, channel_id: str | None = None) -> str:
    """The portfolio: every use case, or those a channel homes."""
    return f"{base}/" + (f"?channel={quote(channel_id, safe='')}" if channel_id else "")


def deployment_url(base: str, slug: str, deployment_id: int) -> str:
    """A deployment, where its use case's page shows it: the page of its deployments that
    starts with it (the newest page may long have moved past it)."""
    return f"{use_case_url(base, slug)}?deployment={deployment_id}#deployment-{deployment_id}"


def _origin(url: str) -> tuple[str, str, int, str] | None:
    """(scheme, host, port, path) of an http(s) URL; None when it is not one."""
    try:
        parts = urlsplit(url.strip())
        scheme, host = parts.scheme.lower(), (parts.hostname or "").lower()
        port = parts.port or _DEFAULT_PORTS.get(scheme, 0)
    except ValueError:  # a malformed port or address
        return None
    if scheme not in _DEFAULT_PORTS or not host:
        return None
    return scheme, host, port, parts.path


def use_case_of(base: str, url: str) -> str | None:
    """The slug of the use case a link to ``base``'s ``/use-cases/<slug>`` names (a query or a
    fragment after it changes nothing); None for another host, port, scheme or path."""
    here, there = _origin(base), _origin(url)
    if not base or here is None or there is None or here[:3] != there[:3]:
        return None
    prefix = here[3].rstrip("/") + USE_CASES
    if not there[3].startswith(prefix):
        return None
    slug = unquote(there[3][len(prefix):]).removesuffix("/")
    return slug if SLUG_RE.fullmatch(slug) else None
