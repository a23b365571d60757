"""The client's address, for lockouts and logs, honest behind reverse proxies.

Each proxy appends the address it received the request from to ``X-Forwarded-For``, so with
``DJANGO_PROXY_COUNT=N`` trusted proxies in front of the app the client is the Nth entry from
the right; anything further left was written by the client and may be forged.
"""

from __future__ import annotations

import ipaddress

from django.conf import settings
from django.http import HttpRequest


def client_ip(request: HttpRequest) -> str:
    remote = str(request.META.get("REMOTE_ADDR", ""))
    count = settings.PROXY_COUNT
    if not count:
        return remote
    forwarded = str(request.META.get("HTTP_X_FORWARDED_FOR", ""))
    hops = [hop.strip() for hop in forwarded.split(",")]
    hops = [hop for hop in hops if hop]
    if len(hops) < count:
        return remote
    candidate = hops[-count]
    try:
        return str(ipaddress.ip_address(candidate))
    except ValueError:
        return remote
