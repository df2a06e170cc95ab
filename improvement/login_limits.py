"""How failed sign-ins are limited: the callables django-axes is configured with (see settings).

- Failures are counted per username (whatever the address) and per address (whatever the
  username), each against its own limit: an address is often a whole office behind one NAT, so
  it is allowed more failures than one name.
- The cool-off is short and grows: one minute for a first lock-out, doubling with each further
  lock-out within a day, up to fifteen minutes. Someone who knows a colleague's username can keep
  them out for minutes, not hours, and a guesser gets a handful of tries per quarter of an hour.
- The client's address comes from X-Forwarded-For only when a setting names the proxies in front
  of the service (TRUSTED_PROXY_COUNT or TRUSTED_PROXIES); otherwise the header is ignored,
  because anyone can send it.
"""

from __future__ import annotations

import datetime as dt
import ipaddress

from django.conf import settings
from django.db.models import Sum
from django.http import HttpRequest
from django.utils import timezone

# How far back earlier lock-outs make the next one longer.
MEMORY = dt.timedelta(days=1)


def _address(value: str) -> ipaddress.IPv4Address | ipaddress.IPv6Address | None:
    try:
        return ipaddress.ip_address(value.strip())
    except ValueError:
        return None


def _is_trusted_proxy(address, networks) -> bool:
    return address is not None and any(address in network for network in networks)


def client_ip(request: HttpRequest) -> str | None:
    """The client's address, believing X-Forwarded-For only as far as the configured proxies."""
    remote = request.META.get("REMOTE_ADDR")
    forwarded = [
        part.strip()
        for part in request.META.get("HTTP_X_FORWARDED_FOR", "").split(",")
        if part.strip()
    ]
    count = settings.TRUSTED_PROXY_COUNT
    networks = [ipaddress.ip_network(net, strict=False) for net in settings.TRUSTED_PROXIES]
    if count:
        # Each proxy appends the address it saw: with N proxies, the client's address is the
        # N-th from the right of the chain (REMOTE_ADDR being the last proxy itself).
        chain = [*forwarded, remote]
        if len(chain) <= count:
            return remote
        candidate = chain[-(count + 1)]
        return str(_address(candidate)) if _address(candidate) else remote
    if networks:
        # Walk back from the connection through addresses that are our own proxies.
        current = remote
        while forwarded and _is_trusted_proxy(_address(current or ""), networks):
            current = forwarded.pop()
        parsed = _address(current or "")
        return str(parsed) if parsed else remote
    return remote


def _username(request: HttpRequest | None, credentials: dict | None) -> str | None:
    from axes.helpers import get_client_username

    return get_client_username(request, credentials) if request is not None else None


def _recent_failures(request: HttpRequest, credentials: dict | None) -> tuple[int, int]:
    """Failures in the current window, per username and per address, as axes counts them."""
    from axes.handlers.proxy import AxesProxyHandler

    by_username, by_address = AxesProxyHandler.get_implementation().get_user_attempts(
        request, credentials
    )

    def total(queryset) -> int:
        return queryset.aggregate(n=Sum("failures_since_start"))["n"] or 0

    return total(by_username), total(by_address)


def failure_limit(request: HttpRequest, credentials: dict | None = None) -> int:
    """Axes compares one limit with the larger of the two counts; give it the one that applies."""
    per_username = settings.LOGIN_FAILURES_PER_USERNAME
    per_address = settings.LOGIN_FAILURES_PER_ADDRESS
    by_username, by_address = _recent_failures(request, credentials)
    if by_username >= per_username:
        return per_username
    if by_address >= per_address:
        return per_address
    # Neither limit is reached: a limit above both counts, so the request is not locked.
    return max(by_username, by_address) + 1


def cool_off(request: HttpRequest | None = None) -> dt.timedelta:
    """One minute, doubling with each earlier lock-out of this name or address today, capped."""
    base = dt.timedelta(seconds=settings.LOGIN_COOL_OFF_SECONDS)
    cap = dt.timedelta(seconds=settings.LOGIN_COOL_OFF_MAX_SECONDS)
    if request is None:
        return base
    from axes.models import AccessFailureLog

    since = timezone.now() - MEMORY
    recent = AccessFailureLog.objects.filter(attempt_time__gte=since)
    username = _username(request, None)
    address = getattr(request, "axes_ip_address", None)
    by_username = recent.filter(username=username).count() if username else 0
    by_address = recent.filter(ip_address=address).count() if address else 0
    # The failure that locks is logged after the lock is decided, so a first lock-out has
    # limit - 1 failures logged when decided and limit afterwards: (n - 1) // limit is 0 for both.
    lockouts = max(
        (by_username - 1) // settings.LOGIN_FAILURES_PER_USERNAME,
        (by_address - 1) // settings.LOGIN_FAILURES_PER_ADDRESS,
        0,
    )
    return min(base * 2**lockouts, cap)
