"""Web pages and feeds as article sources: the one module that speaks HTTP (httpx) and reads feeds (feedparser).

One fetch policy holds for every request, whoever named the URL (a chat user, the operator, a feed, a
redirect): the private network only for hosts the operator allowed, one deadline for the whole fetch,
a size limit on the body as received and as decoded, retries on transient failures.
"""

from __future__ import annotations

import asyncio
import email.utils
import hashlib
import html
import io
import ipaddress
import logging
import math
import re
import socket
import zlib
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, replace
from datetime import UTC, datetime
from typing import Any, Literal, Protocol

import feedparser
import httpx
import trafilatura
import zstandard
from tenacity import AsyncRetrying, RetryCallState, retry_if_exception, stop_after_attempt, wait_exponential

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
# The longest pause a server may ask for (Retry-After) that a fetch waits out before trying again.
MAX_RETRY_AFTER_SECONDS = 2.0
USER_AGENT = "newsbot/0.1 (news question answering)"
DEFAULT_PORTS = {"http": 80, "https": 443}
# Content codings decoded here, piece by piece: a few kilobytes of gzip can hold a gigabyte.
ACCEPT_ENCODING = "gzip, deflate, zstd"
MAX_CONTENT_CODINGS = 3
DECODE_PIECE_BYTES = 64 * 1024
ZSTD_MAX_WINDOW_BYTES = 8 * 1024 * 1024  # RFC 9659: zstd in HTTP needs no larger window

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
_BACKOFF = wait_exponential(multiplier=RETRY_WAIT_SECONDS, max=2)
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
    language: str = "de"  # NEWSBOT_LANGUAGE: the language of the reason when the body is no text

    @property
    def text(self) -> str:
        """The body as text: the charset the server declared, else UTF-8 or the best guess."""
        if self.charset:
            try:
                return self.body.decode(self.charset)
            except (LookupError, UnicodeDecodeError):
                log.debug("declared charset %s does not fit %s; guessing", self.charset, self.url)
        return decode_bytes(self.body, self.url, self.language)


@dataclass(frozen=True)
class FeedEntry:
    """One item of a feed; `entry_id` is what the index stores it under, so a known entry is not fetched
    again unless the feed gives it a newer `updated` time (Atom's <updated>, RSS's rare atom:updated) or
    its title or text in the feed changed (`text_digest`)."""

    entry_id: str
    link: str | None
    title: str
    published: str | None
    summary: str
    updated: str | None = None
    feed: str = ""  # the feed's URL: where an entry without a link was read from

    @property
    def text_digest(self) -> str:
        """What the feed says of the entry, hashed: RSS marks no edit, but an edited story's feed text
        (often the whole article, for entries without a page) changes with it, and costs no request."""
        return hashlib.sha256(f"{self.title}\n{self.summary}".encode()).hexdigest()


@dataclass(frozen=True)
class _Redirect:
    target: httpx.URL


class _TransientStatus(Exception):
    def __init__(self, status: int, retry_after: float | None = None) -> None:
        super().__init__(f"HTTP {status}")
        self.status = status
        self.retry_after = retry_after  # seconds the server asked for (Retry-After), if it did


def retry_after_seconds(value: str | None) -> float | None:
    """A Retry-After header as seconds from now (delta-seconds or an HTTP date); None when absent or unreadable."""
    value = (value or "").strip()
    if value.isdigit():
        return float(value)
    try:
        when = email.utils.parsedate_to_datetime(value)
    except (TypeError, ValueError, IndexError):
        return None
    when = when if when.tzinfo else when.replace(tzinfo=UTC)
    return max(0.0, (when - datetime.now(UTC)).total_seconds())


def _worth_another_try(error: BaseException) -> bool:
    """Transient failures, except a server that asked for a longer pause than a fetch waits: asking again at
    once only adds to the load it complained about (429 with Retry-After: 120 was asked twice more in 0.5 s)."""
    if isinstance(error, _TransientStatus):
        return error.retry_after is None or error.retry_after <= MAX_RETRY_AFTER_SECONDS
    return isinstance(error, _TRANSIENT_ERRORS)


def _retry_wait(state: RetryCallState) -> float:
    """The backoff, or the pause the server asked for where that is longer."""
    error = state.outcome.exception() if state.outcome else None
    return max(_BACKOFF(state), getattr(error, "retry_after", None) or 0.0)


class ServerAskedToWait(NewsbotError):
    """A server asked (Retry-After) for a longer pause than a fetch waits: `seconds` from its answer."""

    def __init__(self, message: str, seconds: float, *, detail: str | None = None) -> None:
        super().__init__(message, detail=detail)
        self.seconds = seconds


class PageGone(NewsbotError):
    """The server says the page is not there (404, 410): a link to it leads nowhere."""


class _TooLarge(Exception):
    """More bytes than the limit arrived, or came out of decoding."""


# ---- URLs and addresses ------------------------------------------------------------------------


def parse_http_url(url: str | httpx.URL, language: str = "de") -> httpx.URL:
    """The URL parsed; anything but an absolute http(s) URL is a user error (told in `language`)."""
    try:
        parsed = url if isinstance(url, httpx.URL) else httpx.URL(url.strip())
    except httpx.InvalidURL as error:
        raise NewsbotError(message("url_invalid", language, url=str(url)), detail=str(error)) from error
    if parsed.scheme not in DEFAULT_PORTS or not parsed.host:
        raise NewsbotError(message("url_invalid", language, url=str(url)))
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


def checked_address(url: httpx.URL, resolver: Resolver = system_resolver, language: str = "de") -> str:
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
        raise _unreachable(url, message("web_reason_dns", language), language, error) from error
    if not addresses:
        raise _unreachable(url, message("web_reason_dns", language), language)
    refused = [a for a in addresses if not is_public_address(a)]
    if refused:
        raise NewsbotError(message("url_forbidden", language, url=str(url)), detail=f"resolves to {', '.join(refused)}")
    return addresses[0]


def may_reach_private_network(url: httpx.URL, settings: Settings) -> bool:
    """Whether the operator allowed `url`'s host to be on the private network (NEWSBOT_FETCH_ALLOW_PRIVATE).

    The allowance is by host name as written in the URL, so a public name cannot be pointed at the
    private network by its DNS, and it holds for every source: an allowed host is reachable through
    any feed's links and any chat user's URL.
    """
    allowed = settings.fetch_allow_private
    if settings.allow_private_urls or "*" in allowed:
        return True
    return url.host.lower() in allowed or url.raw_host.decode("ascii").lower() in allowed


# ---- fetching ----------------------------------------------------------------------------------


def fetch(
    url: str,
    settings: Settings,
    *,
    expect: Expect = "article",
    validators: Validators | None = None,
    resolver: Resolver = system_resolver,
    transport: httpx.AsyncBaseTransport | None = None,
) -> FetchedPage:
    """Fetch one page under the fetch policy; every failure is a `NewsbotError` naming the reason.

    With `validators` of the version fetched before, the request is conditional: `NotModified` when the
    server says the page has not changed since.

    Redirects are followed here, not by httpx, so that the private-network guard checks every hop. A
    guarded request connects to the very address that was checked, sending the original Host header
    and TLS server name, so a DNS answer that changes between check and connect (DNS rebinding) cannot
    turn it into the private network. The whole fetch (every hop, retry and byte) runs under one
    deadline, `settings.fetch_timeout_seconds`: httpx's timeouts bound each read, not a server that
    sends one byte just before each would expire. Runs its own event loop, so call it from a thread
    without one (`asyncio.to_thread` from async code). `resolver` and `transport` are seams for tests.
    """
    return asyncio.run(_fetch(url, settings, expect, validators, resolver, transport))


async def _fetch(
    url: str,
    settings: Settings,
    expect: Expect,
    validators: Validators | None,
    resolver: Resolver,
    transport: httpx.AsyncBaseTransport | None,
) -> FetchedPage:
    language = settings.language
    current = parse_http_url(url, language)
    retrying = AsyncRetrying(
        stop=stop_after_attempt(FETCH_ATTEMPTS),
        wait=_retry_wait,
        retry=retry_if_exception(_worth_another_try),
        reraise=True,
    )
    headers = {"User-Agent": USER_AGENT, "Accept": _ACCEPT[expect], "Accept-Encoding": ACCEPT_ENCODING}
    if validators and validators.etag:
        headers["If-None-Match"] = validators.etag
    if validators and validators.last_modified:
        headers["If-Modified-Since"] = validators.last_modified
    try:
        async with (
            asyncio.timeout(settings.fetch_timeout_seconds),
            httpx.AsyncClient(
                timeout=settings.fetch_timeout_seconds, follow_redirects=False, headers=headers, transport=transport
            ) as client,
        ):
            for _hop in range(MAX_REDIRECTS + 1):
                pinned = (
                    None
                    if may_reach_private_network(current, settings)
                    else await _resolved(current, resolver, language)
                )
                request = _request_for(client, current, pinned)
                try:
                    outcome = await retrying(_send_once, client, request, current, settings, expect)
                except _TransientStatus as error:
                    failure = _unreachable(current, _status_reason(error, language), language)
                    if error.retry_after is not None and error.retry_after > MAX_RETRY_AFTER_SECONDS:
                        raise ServerAskedToWait(failure.message, error.retry_after, detail=failure.detail) from error
                    raise failure from error
                except httpx.TimeoutException as error:
                    raise _unreachable(current, message("web_reason_timeout", language), language, error) from error
                except httpx.ConnectError as error:
                    raise _unreachable(current, message("web_reason_connect", language), language, error) from error
                except httpx.HTTPError as error:
                    raise _unreachable(current, message("web_reason_transfer", language), language, error) from error
                if isinstance(outcome, FetchedPage):
                    return outcome
                current = parse_http_url(outcome.target, language)
    except TimeoutError as error:  # the deadline of the whole fetch
        raise _unreachable(current, message("web_reason_timeout", language), language, error) from error
    raise _unreachable(parse_http_url(url, language), message("web_reason_redirects", language), language)


async def _resolved(url: httpx.URL, resolver: Resolver, language: str) -> str:
    """`checked_address` in a thread of its own, so the deadline also bounds a DNS server that does not
    answer: getaddrinfo cannot be interrupted, and its thread is left to end when the system gives up."""
    executor = ThreadPoolExecutor(max_workers=1, thread_name_prefix="newsbot-dns")
    try:
        return await asyncio.wrap_future(executor.submit(checked_address, url, resolver, language))
    finally:
        executor.shutdown(wait=False)


def _request_for(client: httpx.AsyncClient, url: httpx.URL, pinned_address: str | None) -> httpx.Request:
    if pinned_address is None:
        return client.build_request("GET", url)
    host = url.raw_host.decode("ascii")
    extensions = {"sni_hostname": host} if url.scheme == "https" else {}
    return client.build_request(
        "GET", url.copy_with(host=pinned_address), headers={"Host": url.netloc.decode("ascii")}, extensions=extensions
    )


async def _send_once(
    client: httpx.AsyncClient,
    request: httpx.Request,
    url: httpx.URL,
    settings: Settings,
    expect: Expect,
) -> FetchedPage | _Redirect:
    """One request: a redirect to follow, or a checked body; `url` is the address as the user sees it."""
    response = await client.send(request, stream=True)
    try:
        location = response.headers.get("location")
        if response.status_code in _REDIRECT_STATUSES and location:
            return _Redirect(url.join(location))
        if response.status_code in _RETRY_STATUSES:
            raise _TransientStatus(response.status_code, retry_after_seconds(response.headers.get("retry-after")))
        conditional = "if-none-match" in request.headers or "if-modified-since" in request.headers
        if response.status_code == 304 and conditional:
            raise NotModified(str(url))
        if not response.is_success:
            reason = message("web_reason_http", settings.language, status=response.status_code)
            if response.status_code in (404, 410):
                raise PageGone(message("url_unreachable", settings.language, url=str(url), reason=reason))
            raise _unreachable(url, reason, language=settings.language)
        content_type = response.headers.get("content-type", "").split(";", 1)[0].strip().lower()
        if content_type and not _acceptable(content_type, expect):
            # a web page given as a feed (the site's address instead of its feed's) is "no feed", not "no article"
            key = "feed_wrong_type" if expect == "feed" else "url_wrong_type"
            raise NewsbotError(message(key, settings.language, url=str(url), content_type=content_type))
        body = await _read_limited(response, url, settings)
        validators = Validators(response.headers.get("etag"), response.headers.get("last-modified"))
        return FetchedPage(str(url), content_type, response.charset_encoding, body, validators, settings.language)
    finally:
        await response.aclose()


def _acceptable(content_type: str, expect: Expect) -> bool:
    if expect == "feed":
        return content_type in FEED_TYPES or content_type.endswith("+xml")
    return content_type in ARTICLE_TYPES


async def _read_limited(response: httpx.Response, url: httpx.URL, settings: Settings) -> bytes:
    """The body, decoded as it arrives and refused as soon as more than the limit has arrived or come out
    of decoding, so that neither an endless response nor a small compressed bomb can fill the memory."""
    limit, language = settings.fetch_max_bytes, settings.language
    declared = response.headers.get("content-length", "")
    if declared.isdigit() and int(declared) > limit:
        raise NewsbotError(message("url_too_large", language, url=str(url), limit=limit))
    body = _LimitedBody(limit)
    decoder = _decoder_for(response.headers.get("content-encoding", ""), body, url, language)
    received = 0
    try:
        async for raw in response.aiter_raw():  # as sent: httpx would decode each piece whole
            received += len(raw)
            if received > limit:
                raise _TooLarge
            decoder.write(raw)
    except _TooLarge as error:
        raise NewsbotError(message("url_too_large", language, url=str(url), limit=limit)) from error
    except (zlib.error, zstandard.ZstdError) as error:
        raise _unreachable(url, message("web_reason_corrupt", language), language, error) from error
    return bytes(body.data)


class _Sink(Protocol):
    def write(self, data: bytes, /) -> int: ...


class _LimitedBody:
    """The decoded body; refuses the piece that would take it past `limit`."""

    def __init__(self, limit: int) -> None:
        self.limit = limit
        self.data = bytearray()

    def write(self, data: bytes, /) -> int:
        if len(self.data) + len(data) > self.limit:
            raise _TooLarge
        self.data += data
        return len(data)


class _ZlibDecoder:
    """gzip or deflate that hands on at most DECODE_PIECE_BYTES at a time, however much one piece of
    input expands (zlib's `max_length`; what it has not read yet waits in `unconsumed_tail`)."""

    def __init__(self, coding: str, downstream: _Sink) -> None:
        self.coding = coding
        self.downstream = downstream
        self.inflate = zlib.decompressobj(zlib.MAX_WBITS | 16 if coding in ("gzip", "x-gzip") else zlib.MAX_WBITS)
        self.started = False

    def write(self, data: bytes, /) -> int:
        try:
            self._inflate(data)
        except zlib.error:
            if self.coding != "deflate" or self.started:
                raise
            # "deflate" is zlib-wrapped by the standard, raw deflate in the wild
            self.inflate = zlib.decompressobj(-zlib.MAX_WBITS)
            self._inflate(data)
        return len(data)

    def _inflate(self, data: bytes) -> None:
        while not self.inflate.eof:  # anything after the end of the stream is ignored
            piece = self.inflate.decompress(data, DECODE_PIECE_BYTES)
            self.started = True
            data = self.inflate.unconsumed_tail
            if piece:
                self.downstream.write(piece)
            if not data and len(piece) < DECODE_PIECE_BYTES:  # a full piece may leave output inside zlib
                return


def _decoder_for(content_encoding: str, body: _Sink, url: httpx.URL, language: str) -> _Sink:
    """Where the raw body goes: one decoder per content coding, the last applied first, ending in `body`."""
    codings = [c.strip().lower() for c in content_encoding.split(",") if c.strip().lower() not in ("", "identity")]
    if len(codings) > MAX_CONTENT_CODINGS:
        raise _unreachable(url, message("web_reason_encoding", language, encoding=content_encoding), language)
    sink = body
    for coding in codings:
        if coding in ("gzip", "x-gzip", "deflate"):
            sink = _ZlibDecoder(coding, sink)
        elif coding == "zstd":
            decompressor = zstandard.ZstdDecompressor(max_window_size=ZSTD_MAX_WINDOW_BYTES)
            sink = decompressor.stream_writer(sink, write_size=DECODE_PIECE_BYTES, write_return_read=True)
        else:
            raise _unreachable(url, message("web_reason_encoding", language, encoding=coding), language)
    return sink


def _status_reason(error: _TransientStatus, language: str) -> str:
    if error.retry_after is not None and error.retry_after > MAX_RETRY_AFTER_SECONDS:
        seconds = math.ceil(error.retry_after)
        return message("web_reason_retry_after", language, status=error.status, seconds=seconds)
    return message("web_reason_http", language, status=error.status)


def _unreachable(url: httpx.URL, reason: str, language: str, error: BaseException | None = None) -> NewsbotError:
    text = message("url_unreachable", language, url=str(url), reason=reason)
    return NewsbotError(text, detail=repr(error) if error else None)


# ---- articles ----------------------------------------------------------------------------------


def fetch_article(url: str, settings: Settings, *, validators: Validators | None = None) -> tuple[Article, Validators]:
    """Fetch a page and extract its article (title, text, date, canonical URL), with the validators the
    server sent for the next fetch; with the `validators` of the last fetch, `NotModified` when the page
    has not changed since.

    The id is the normalised canonical URL, so the same article reached by another link is updated,
    not duplicated. A canonical link to another site is ignored: it would let any page overwrite
    another site's article in the index. So is one the named page does not confirm (`_confirmed`).
    Articles longer than `settings.max_article_chars` are refused.
    """
    page = fetch(url, settings, validators=validators)
    if page.content_type == "text/plain":
        text = page.text.replace("\r\n", "\n").strip()
        if not text:
            raise NewsbotError(message("empty_article", settings.language, path=url))
        own_url = normalise_url(page.url)
        article = Article(own_url, url, title_from_text(text), text, own_url)
    else:
        extracted = article_from_html(page.text, page.url, url, page.url, settings.language)
        canonical = _canonical_url(extracted.url, page.url)
        if canonical != normalise_url(page.url) and not _confirmed(canonical, settings):
            canonical = normalise_url(page.url)
        article = replace(extracted, article_id=canonical, url=canonical)
    return _within_size(article, settings), page.validators


def _confirmed(canonical: str, settings: Settings) -> bool:
    """Whether the page a canonical link names is canonical itself, as search engines check: two pages
    that name each other (A says B, B says A) would otherwise swap their ids and links at every fetch,
    each article shown with the other's address. Costs a fetch only for a page that names another."""
    try:
        page = fetch(canonical, settings)
        if page.content_type == "text/plain":
            return normalise_url(page.url) == canonical
        extracted = article_from_html(page.text, page.url, canonical, page.url, settings.language)
    except NewsbotError as error:
        log.info("canonical link %s not confirmed: %s", canonical, error.message)
        return False
    return _canonical_url(extracted.url, page.url) == canonical


def _within_size(article: Article, settings: Settings) -> Article:
    if len(article.text) > settings.max_article_chars:
        raise NewsbotError(
            message(
                "article_too_large",
                settings.language,
                path=article.url or article.article_id,
                limit=settings.max_article_chars,
            ),
            detail=f"{len(article.text)} characters",
        )
    return article


def _canonical_url(candidate: str | None, page_url: str) -> str:
    page = httpx.URL(page_url)
    try:
        canonical = parse_http_url(page.join(candidate)) if candidate else page
    except (NewsbotError, httpx.InvalidURL):
        canonical = page
    if _site(canonical) != _site(page):
        canonical = page
    return normalise_url(str(canonical))


def other_spellings(url: str) -> list[str]:
    """Other spellings of the normalised `url` that a server answers with the same page: its path with or without a
    trailing slash, and with runs of slashes as one ("/politik//gipfel/" for "/politik/gipfel")."""
    scheme, _, rest = url.partition("://")
    host, slash, tail = rest.partition("/")
    path, mark, query = f"{slash}{tail}".partition("?")
    single = re.sub("/{2,}", "/", path)
    forms = {single, single.rstrip("/") or "/", single.rstrip("/") + "/"}
    return sorted(f"{scheme}://{host}{form}{mark}{query}" for form in forms if form != path)


def same_site(first: str, second: str) -> bool:
    """Whether two URLs are of one site (`_site`): one may stand for the other."""
    return _site(httpx.URL(first)) == _site(httpx.URL(second))


def _site(url: httpx.URL) -> tuple[str, int | None]:
    """Host (without www.) and port other than the scheme's default: what one source may speak for."""
    return url.host.removeprefix("www."), url.port


# ---- feeds -------------------------------------------------------------------------------------


def read_feed(url: str, settings: Settings, skipped: list[str] | None = None) -> list[FeedEntry]:
    """The newest entries of an RSS or Atom feed, newest first, at most `settings.feed_max_entries`;
    feedparser only parses what was fetched here. Entries without id and link cannot be stored under any
    id: their titles (else first words) go to `skipped`, for the caller's report."""
    page = fetch(url, settings, expect="feed")
    content_type = page.content_type + (f"; charset={page.charset}" if page.charset else "")
    # A stream, never a string: feedparser would fetch a string that looks like a URL or a file name.
    parsed = feedparser.parse(
        io.BytesIO(page.body), response_headers={"content-type": content_type, "content-location": page.url}
    )
    entries = []
    without_id = []
    for raw in parsed.entries:
        entry = _feed_entry(raw, page.url)
        if entry is None:
            title = _html_to_text(raw.get("title") or "")
            without_id.append(title or title_from_text(_html_to_text(raw.get("summary", ""))) or "–")
        else:
            entries.append(entry)
    # A slightly malformed feed with usable entries is common and still worth reading.
    if not entries and (parsed.bozo or not parsed.get("version")):
        raise NewsbotError(
            message("feed_invalid", settings.language, url=url), detail=repr(parsed.get("bozo_exception"))
        )
    for title in without_id:  # of a feed that is one: a broken feed's half-parsed items are no news
        log.info("feed %s: entry without id or link skipped: %s", url, title)
    if skipped is not None:
        skipped.extend(without_id)
    # Stable: entries without a date keep the feed's order, after the dated ones.
    newest = sorted(entries, key=lambda e: max(e.updated or "", e.published or ""), reverse=True)
    if len(newest) > settings.feed_max_entries:
        log.info("feed %s: %d entries, reading the newest %d", url, len(newest), settings.feed_max_entries)
    return newest[: settings.feed_max_entries]


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
    # plain text as the body is: a title's markup (escaped or not, feedparser passes a <script> on as text) was
    # stored and shown literally, in `index list`, the CLI and Discord
    title = _html_to_text(raw.get("title") or "")
    return FeedEntry(entry_id, link, title, published, _html_to_text(body), updated, normalise_url(feed_url))


def _entry_id(guid: str, link: str | None, feed_url: str) -> str | None:
    """An id the feed cannot forge for another source: its GUID (else its link), normalised, when that is
    a URL of the feed's own site; anything else qualified with the feed's URL.

    A feed is a third party's text: a GUID naming another site's page, or the urn:uuid of another feed's
    entry, must not let its entry replace that article.
    """
    own = guid or link
    if not own:
        return None
    as_url = _http_url_or_none(own)
    if as_url and _site(httpx.URL(as_url)) == _site(httpx.URL(feed_url)):
        return as_url
    return f"{normalise_url(feed_url)}#{as_url or own}"


def _http_url_or_none(text: str | None) -> str | None:
    if not text or not text.strip().lower().startswith(("http://", "https://")):
        return None
    try:
        return normalise_url(text)
    except NewsbotError:
        return None


# a tag: "<" with a name, a closing slash, "!" (comment, CDATA) or "?", up to its ">"
_MARKUP_TAG = re.compile(r"<[A-Za-z/!?][^<>]*>")


def _html_to_text(markup: str) -> str:
    """The text of a feed's HTML, markup and scripts dropped (trafilatura over lxml): a "<" or "&" that begins no
    tag or entity ("Preis <5 Euro", "A & B", "a<b") stays as it is. Text without a tag is only unescaped: lxml
    read the "<b" of "a<b" as an unclosed tag and dropped the rest."""
    if not markup.strip():
        return ""
    if not _MARKUP_TAG.search(markup):
        return " ".join(html.unescape(markup).split())
    return trafilatura.html2txt(f"<html><body>{markup}</body></html>").strip()


def article_from_feed_entry(
    entry: FeedEntry, settings: Settings, *, validators: Validators | None = None
) -> tuple[Article, Validators]:
    """The entry's page as an article, stored under the entry's id, with the page's validators; when the
    page cannot be had, the text the feed itself carries (content or summary) under the entry's title.
    `validators` make the page's fetch conditional, as in `fetch_article`."""
    page_error: NewsbotError | None = None
    link = entry.link
    if entry.link:
        try:
            article, page = fetch_article(entry.link, settings, validators=validators)
            published = article.published or entry.published
            return replace(article, article_id=entry.entry_id, published=published), page
        except NewsbotError as error:
            log.info("feed entry %s: page not usable (%s); using the feed's text", entry.link, error.message)
            page_error = error
            if isinstance(error, PageGone):  # cited without a link: answers linked a page that said 404
                link = None
    if not entry.summary:
        raise page_error or NewsbotError(
            message("feed_entry_empty", settings.language, entry=entry.title or entry.entry_id)
        )
    title = entry.title or title_from_text(entry.summary)
    text = entry.summary if entry.summary.startswith(title) else f"{title}\n\n{entry.summary}"
    # Cited as its feed, not as its id: "FEED#urn:uuid:…" looked like a link and opened only the feed.
    article = Article(entry.entry_id, link or entry.feed or entry.entry_id, title, text, link, entry.published)
    return _within_size(article, settings), Validators()
