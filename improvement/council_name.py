"""The council named in the header: the signed-in person's authority.

The name is kept in the session at sign-in (keyed by the authority's id), so that pages do not
each pay a query for it; a person moved to another authority sees the new name on their next
page, a renamed authority at their next sign-in. People without an authority (regional or
national reach) and signed-out pages show the operator's name, settings.COUNCIL_NAME.
"""

from __future__ import annotations

from django.conf import settings
from django.contrib.auth.signals import user_logged_in
from django.http import HttpRequest

SESSION_KEY = "improvement_council_name"


def _authority_name(authority_id: int) -> str:
    from improvement.models import Authority

    name = Authority.objects.filter(pk=authority_id).values_list("name", flat=True).first()
    return name or settings.COUNCIL_NAME


def remember_on_sign_in(sender, request: HttpRequest | None, user, **kwargs) -> None:
    if request is not None and getattr(user, "authority_id", None):
        request.session[SESSION_KEY] = [user.authority_id, _authority_name(user.authority_id)]


def council_name(request: HttpRequest | None) -> str:
    user = getattr(request, "user", None)
    authority_id = getattr(user, "authority_id", None)
    if not (user and user.is_authenticated and authority_id):
        return settings.COUNCIL_NAME
    remembered = request.session.get(SESSION_KEY)
    if remembered and remembered[0] == authority_id:
        return remembered[1]
    name = _authority_name(authority_id)
    request.session[SESSION_KEY] = [authority_id, name]
    return name


def connect() -> None:
    user_logged_in.connect(remember_on_sign_in, dispatch_uid="improvement_council_name")
