"""Web pages and feeds as article sources: the one module that speaks HTTP (httpx) and reads feeds (feedparser).

Every fetch is bounded (scheme, timeout, size, content type) and retried on transient failures; URLs a
user handed in are checked against the private network (SSRF) on every redirect hop.
"""

from __future__ import annotations

import io
import ipaddress
import logging
import socket
import time
from collections.abc import Callable
from dataclasses import dataclass, replace
from datetime import UTC, datetime
from typing import Any, Literal

import feedparser
import httpx
import trafilatura
from tenacity import Retrying, retry_if_exception_type, stop_after_attempt, wait_exponential

from index.articles import Article, article_from_html, decode_bytes, title_from_text
from index.errors import NewsbotError
from index.settings import Settings
from index.texts import message

log = logging.getLogger(__name__)

Expect = Literal["article", "feed"]
Resolver = Callable[[str, int], list[str]]
"""Host and port to the IP addresses a connection may go to (injectable, so tests need no DNS)."""

MAX_REDIRECTS = 5
FETCH_ATTEMPTS = 3
RETRY_WAIT_SECONDS = 0.25
USER_AGENT = "newsbot/0.1 (news question answering)"
DEFAULT_PORTS = {"http": 80, "https": 443}

ARTICLE_TYPES = frozenset({"text/html", "application/xhtml+xml", "text/plain"})
FEED_TYPES = frozenset(
    {"application/rss+xml", "application/atom+xml", "application/rdf+xml", "application/xml", "text/xml"}
)
_ACCEPT = {
    "article": "text/html, application/xhtml+xml;q=0.9, text/plain;q=0.8",
    "feed": "application/rss+xml, application/atom+xml, application/xml;q=0.9, text/xml;q=0.8",
}
_REDIRECT_STATUSES = frozenset({301, 302, 303, 307, 308})
# Worth another try: the server or the path to it is busy, not wrong.
_RETRY_STATUSES = frozenset({429, 502, 503, 504})
# Read timeouts are not retried: a server that is slow once is usually slow again, and three waits
# of the full timeout would keep a Discord user waiting for a minute.
_TRANSIENT_ERRORS = (httpx.ConnectError, httpx.ConnectTimeout, httpx.ReadError, httpx.RemoteProtocolError)
_TRACKING_PARAMS = frozenset({"fbclid", "gclid", "mc_cid", "mc_eid"})


@dataclass(frozen=True)
class Validators:
    """What identifies the version of a page that a server sent (ETag, Last-Modified). Sent back on the
    next fetch, they let the server answer 304 for an unchanged page instead of sending it again."""

    etag: str | None = None
    last_modified: str | None = None

    def __bool__(self) -> bool:
        return bool(self.etag or self.last_modified)


class NotModified(Exception):
    """The server answered 304 to a conditional request: the page is the version indexed before."""


@dataclass(frozen=True)
class FetchedPage:
    """A response body that passed every check, with what is needed to decode it."""

    url: str
    content_type: str
    charset: str | None
    body: bytes
    validators: Validators = Validators()

    @property
    def text(self) -> str:
        """The body as text: the charset the server declared, else UTF-8 or the best guess."""
        if self.charset:
            try:
                return self.body.decode(self.charset)
            except (LookupError, UnicodeDecodeError):
                log.debug("declared charset %s does not fit %s; guessing", self.charset, self.url)
        return decode_bytes(self.body, self.url)


@dataclass(frozen=True)
class FeedEntry:
    """One item of a feed; `entry_id` is what the index stores it under, so a known entry is not fetched
    again unless the feed gives it a newer `updated` time (Atom's <updated>, RSS's rare atom:updated)."""

    entry_id: str
    link: str | None
    title: str
    published: str | None
    summary: str
    updated: str | None = None


@dataclass(frozen=True)
class _Redirect:
    target: httpx.URL


class _TransientStatus(Exception):
    def __init__(self, status: int) -> None:
        super().__init__(f"HTTP {status}")
        self.status = status


# ---- URLs and addresses ------------------------------------------------------------------------


def parse_http_url(url: str | httpx.URL) -> httpx.URL:
    """The URL parsed; anything but an absolute http(s) URL is a user error."""
    try:
        parsed = url if isinstance(url, httpx.URL) else httpx.URL(url.strip())
    except httpx.InvalidURL as error:
        raise NewsbotError(message("url_invalid", url=str(url)), detail=str(error)) from error
    if parsed.scheme not in DEFAULT_PORTS or not parsed.host:
        raise NewsbotError(message("url_invalid", url=str(url)))
    return parsed


def normalise_url(url: str) -> str:
    """The form of a URL used as article id: lowercase scheme and host, no default port, no fragment,
    no tracking parameters (utm_* and a few click ids), so the same article is found under one id."""
    parsed = parse_http_url(url)
    port = "" if parsed.port in (None, DEFAULT_PORTS[parsed.scheme]) else f":{parsed.port}"
    host = parsed.raw_host.decode("ascii").lower()
    if ":" in host:
        host = f"[{host}]"
    query = "&".join(
        part
        for part in parsed.query.decode("ascii").split("&")
        if part and not _is_tracking_param(part.split("=", 1)[0])
    )
    path = parsed.raw_path.decode("ascii").split("?", 1)[0] or "/"
    return f"{parsed.scheme}://{host}{port}{path}" + (f"?{query}" if query else "")


def _is_tracking_param(name: str) -> bool:
    name = name.lower()
    return name.startswith("utm_") or name in _TRACKING_PARAMS


def is_public_address(address: str) -> bool:
    """Whether a connection to `address` leaves the local and private networks.

    Refuses private, loopback, link-local, multicast, reserved and unspecified addresses, also when
    wrapped in IPv6 (IPv4-mapped ::ffff:a.b.c.d or 6to4), and anything not globally routable.
    """
    try:
        ip = ipaddress.ip_address(address.split("%", 1)[0])
    except ValueError:
        return False
    if isinstance(ip, ipaddress.IPv6Address):
        embedded = ip.ipv4_mapped or ip.sixtofour
        if embedded is not None and not is_public_address(str(embedded)):
            return False
    refused = (
        ip.is_private or ip.is_loopback or ip.is_link_local or ip.is_multicast or ip.is_reserved or ip.is_unspecified
    )
    return not refused and ip.is_global


def system_resolver(host: str, port: int) -> list[str]:
    """Every address the system resolver gives for `host`, in its order of preference."""
    infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    return list(dict.fromkeys(str(info[4][0]) for info in infos))


def checked_address(url: httpx.URL, resolver: Resolver = system_resolver) -> str:
    """The address to connect to for `url`, after checking every address its host resolves to.

    One private address among public ones is enough to refuse: otherwise the attacker's DNS server
    picks which one the connection uses.
    """
    try:
        addresses = [str(ipaddress.ip_address(url.host))]
    except ValueError:
        addresses = []
    try:
        addresses = addresses or resolver(url.host, url.port or DEFAULT_PORTS[url.scheme])
    except OSError as error:
        raise _unreachable(url, message("web_reason_dns"), error) from error
    if not addresses:
        raise _unreachable(url, message("web_reason_dns"))
    refused = [a for a in addresses if not is_public_address(a)]
    if refused:
        raise NewsbotError(message("url_forbidden", url=str(url)), detail=f"resolves to {', '.join(refused)}")
    return addresses[0]


# ---- fetching ----------------------------------------------------------------------------------


def fetch(
    url: str,
    settings: Settings,
    *,
    untrusted: bool,
    expect: Expect = "article",
    validators: Validators | None = None,
    resolver: Resolver = system_resolver,
    transport: httpx.BaseTransport | None = None,
) -> FetchedPage:
    """Fetch one page within the settings' limits; every failure is a `NewsbotError` naming the reason.

    With `validators` of the version fetched before, the request is conditional: `NotModified` when the
    server says the page has not changed since.

    Redirects are followed here, not by httpx, so that the SSRF guard (on when `untrusted` and not
    `settings.allow_private_urls`) checks every hop. A guarded request connects to the very address that
    was checked, sending the original Host header and TLS server name, so a DNS answer that changes
    between check and connect (DNS rebinding) cannot turn it into the private network.
    `resolver` and `transport` are seams for tests.
    """
    guarded = untrusted and not settings.allow_private_urls
    current = parse_http_url(url)
    retrying = Retrying(
        stop=stop_after_attempt(FETCH_ATTEMPTS),
        wait=wait_exponential(multiplier=RETRY_WAIT_SECONDS, max=2),
        retry=retry_if_exception_type((*_TRANSIENT_ERRORS, _TransientStatus)),
        reraise=True,
    )
    headers = {"User-Agent": USER_AGENT, "Accept": _ACCEPT[expect]}
    if validators and validators.etag:
        headers["If-None-Match"] = validators.etag
    if validators and validators.last_modified:
        headers["If-Modified-Since"] = validators.last_modified
    with httpx.Client(
        timeout=settings.fetch_timeout_seconds, follow_redirects=False, headers=headers, transport=transport
    ) as client:
        for _hop in range(MAX_REDIRECTS + 1):
            pinned = checked_address(current, resolver) if guarded else None
            request = _request_for(client, current, pinned)
            try:
                outcome = retrying(_send_once, client, request, current, settings, expect)
            except _TransientStatus as error:
                raise _unreachable(current, message("web_reason_http", status=error.status)) from error
            except httpx.TimeoutException as error:
                raise _unreachable(current, message("web_reason_timeout"), error) from error
            except httpx.ConnectError as error:
                raise _unreachable(current, message("web_reason_connect"), error) from error
            except httpx.HTTPError as error:
                raise _unreachable(current, message("web_reason_transfer"), error) from error
            if isinstance(outcome, FetchedPage):
                return outcome
            current = parse_http_url(outcome.target)
    raise _unreachable(parse_http_url(url), message("web_reason_redirects"))


def _request_for(client: httpx.Client, url: httpx.URL, pinned_address: str | None) -> httpx.Request:
    if pinned_address is None:
        return client.build_request("GET", url)
    host = url.raw_host.decode("ascii")
    extensions = {"sni_hostname": host} if url.scheme == "https" else {}
    return client.build_request(
        "GET", url.copy_with(host=pinned_address), headers={"Host": url.netloc.decode("ascii")}, extensions=extensions
    )


def _send_once(
    client: httpx.Client,
    request: httpx.Request,
    url: httpx.URL,
    settings: Settings,
    expect: Expect,
) -> FetchedPage | _Redirect:
    """One request: a redirect to follow, or a checked body; `url` is the address as the user sees it."""
    started = time.monotonic()
    response = client.send(request, stream=True)
    try:
        location = response.headers.get("location")
        if response.status_code in _REDIRECT_STATUSES and location:
            return _Redirect(url.join(location))
        if response.status_code in _RETRY_STATUSES:
            raise _TransientStatus(response.status_code)
        conditional = "if-none-match" in request.headers or "if-modified-since" in request.headers
        if response.status_code == 304 and conditional:
            raise NotModified(str(url))
        if not response.is_success:
            raise _unreachable(url, message("web_reason_http", status=response.status_code))
        content_type = response.headers.get("content-type", "").split(";", 1)[0].strip().lower()
        if content_type and not _acceptable(content_type, expect):
            raise NewsbotError(message("url_wrong_type", url=str(url), content_type=content_type))
        body = _read_limited(response, url, settings, started)
        validators = Validators(response.headers.get("etag"), response.headers.get("last-modified"))
        return FetchedPage(str(url), content_type, response.charset_encoding, body, validators)
    finally:
        response.close()


def _acceptable(content_type: str, expect: Expect) -> bool:
    if expect == "feed":
        return content_type in FEED_TYPES or content_type.endswith("+xml")
    return content_type in ARTICLE_TYPES


def _read_limited(response: httpx.Response, url: httpx.URL, settings: Settings, started: float) -> bytes:
    """The body, read in pieces and cut off past the size limit or the time limit, so an endless or
    trickling response cannot fill the memory or hold the caller."""
    limit = settings.fetch_max_bytes
    declared = response.headers.get("content-length", "")
    if declared.isdigit() and int(declared) > limit:
        raise NewsbotError(message("url_too_large", url=str(url), limit=limit))
    body = bytearray()
    for piece in response.iter_bytes():
        body.extend(piece)
        if len(body) > limit:
            raise NewsbotError(message("url_too_large", url=str(url), limit=limit))
        if time.monotonic() - started > settings.fetch_timeout_seconds:
            raise _unreachable(url, message("web_reason_timeout"))
    return bytes(body)


def _unreachable(url: httpx.URL, reason: str, error: BaseException | None = None) -> NewsbotError:
    return NewsbotError(message("url_unreachable", url=str(url), reason=reason), detail=repr(error) if error else None)


# ---- articles ----------------------------------------------------------------------------------


def fetch_article(
    url: str, settings: Settings, *, untrusted: bool, validators: Validators | None = None
) -> tuple[Article, Validators]:
    """Fetch a page and extract its article (title, text, date, canonical URL), with the validators the
    server sent for the next fetch; with the `validators` of the last fetch, `NotModified` when the page
    has not changed since.

    The id is the normalised canonical URL, so the same article reached by another link is updated,
    not duplicated. For untrusted URLs a canonical link to another host is ignored: it would let any
    page overwrite another site's article in the index.
    """
    page = fetch(url, settings, untrusted=untrusted, validators=validators)
    if page.content_type == "text/plain":
        text = page.text.replace("\r\n", "\n").strip()
        if not text:
            raise NewsbotError(message("empty_article", path=url))
        own_url = normalise_url(page.url)
        return Article(own_url, url, title_from_text(text), text, own_url), page.validators
    extracted = article_from_html(page.text, page.url, url, page.url)
    canonical = _canonical_url(extracted.url, page.url, untrusted=untrusted)
    return replace(extracted, article_id=canonical, url=canonical), page.validators


def _canonical_url(candidate: str | None, page_url: str, *, untrusted: bool) -> str:
    page = httpx.URL(page_url)
    try:
        canonical = parse_http_url(page.join(candidate)) if candidate else page
    except (NewsbotError, httpx.InvalidURL):
        canonical = page
    if untrusted and _bare_host(canonical) != _bare_host(page):
        canonical = page
    return normalise_url(str(canonical))


def _bare_host(url: httpx.URL) -> str:
    return url.host.removeprefix("www.")


# ---- feeds -------------------------------------------------------------------------------------


def read_feed(url: str, settings: Settings, *, untrusted: bool) -> list[FeedEntry]:
    """The entries of an RSS or Atom feed, in feed order; feedparser only parses what was fetched here."""
    page = fetch(url, settings, untrusted=untrusted, expect="feed")
    content_type = page.content_type + (f"; charset={page.charset}" if page.charset else "")
    # A stream, never a string: feedparser would fetch a string that looks like a URL or a file name.
    parsed = feedparser.parse(
        io.BytesIO(page.body), response_headers={"content-type": content_type, "content-location": page.url}
    )
    entries = []
    for raw in parsed.entries:
        entry = _feed_entry(raw, page.url)
        if entry is None:
            log.warning("feed %s: entry without id or link skipped: %s", url, raw.get("title", ""))
        else:
            entries.append(entry)
    # A slightly malformed feed with usable entries is common and still worth reading.
    if not entries and (parsed.bozo or not parsed.get("version")):
        raise NewsbotError(message("feed_invalid", url=url), detail=repr(parsed.get("bozo_exception")))
    return entries


def _feed_entry(raw: Any, feed_url: str) -> FeedEntry | None:
    link = _http_url_or_none(raw.get("link"))
    entry_id = _entry_id((raw.get("id") or "").strip(), link, feed_url)
    if entry_id is None:
        return None
    parsed_date = raw.get("published_parsed") or raw.get("updated_parsed")
    published = datetime(*parsed_date[:6], tzinfo=UTC).isoformat() if parsed_date else None
    # dict's own get: feedparser's falls back to the published date where a feed has no updated one
    parsed_update = dict.get(raw, "updated_parsed")
    updated = datetime(*parsed_update[:6], tzinfo=UTC).isoformat() if parsed_update else None
    contents = raw.get("content") or []
    body = contents[0].get("value", "") if contents else raw.get("summary", "")
    return FeedEntry(entry_id, link, (raw.get("title") or "").strip(), published, _html_to_text(body), updated)


def _entry_id(guid: str, link: str | None, feed_url: str) -> str | None:
    """The GUID (normalised when it is a URL), else the canonical link.

    A GUID with a scheme (urn:uuid:…, tag:…, http…) is unique by construction; a bare one such as a
    number is only unique within its feed, so it is qualified with the feed's URL.
    """
    if not guid:
        return link
    as_url = _http_url_or_none(guid)
    if as_url:
        return as_url
    if ":" in guid:
        return guid
    return f"{normalise_url(feed_url)}#{guid}"


def _http_url_or_none(text: str | None) -> str | None:
    if not text or not text.strip().lower().startswith(("http://", "https://")):
        return None
    try:
        return normalise_url(text)
    except NewsbotError:
        return None


def _html_to_text(html: str) -> str:
    if not html.strip():
        return ""
    return trafilatura.html2txt(f"<html><body>{html}</body></html>").strip()


def article_from_feed_entry(
    entry: FeedEntry, settings: Settings, *, untrusted: bool, validators: Validators | None = None
) -> tuple[Article, Validators]:
    """The entry's page as an article, stored under the entry's id, with the page's validators; when the
    page cannot be had, the text the feed itself carries (content or summary) under the entry's title.
    `validators` make the page's fetch conditional, as in `fetch_article`."""
    page_error: NewsbotError | None = None
    if entry.link:
        try:
            article, page = fetch_article(entry.link, settings, untrusted=untrusted, validators=validators)
            published = article.published or entry.published
            return replace(article, article_id=entry.entry_id, published=published), page
        except NewsbotError as error:
            log.info("feed entry %s: page not usable (%s); using the feed's text", entry.link, error.message)
            page_error = error
    if not entry.summary:
        raise page_error or NewsbotError(message("feed_entry_empty", entry=entry.title or entry.entry_id))
    title = entry.title or title_from_text(entry.summary)
    text = entry.summary if entry.summary.startswith(title) else f"{title}\n\n{entry.summary}"
    return Article(entry.entry_id, entry.link or entry.entry_id, title, text, entry.link, entry.published), Validators()
