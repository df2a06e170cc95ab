"""Fetch an object for a user: 404 if they may not see it, 403 if they may see but not do."""

from __future__ import annotations

from django.core.exceptions import PermissionDenied
from django.db.models import Model, QuerySet
from django.http import Http404
from django.shortcuts import get_object_or_404

from improvement.models import Action, Authority, DueDateChange, Inspection


def _access(user, queryset: QuerySet, pk: int, *, see: str, perm: str | None) -> Model:
    obj = get_object_or_404(queryset, pk=pk)
    if not user.has_perm(see, obj):
        raise Http404
    if perm is not None and not user.has_perm(perm, obj):
        raise PermissionDenied
    return obj


def access_action(
    user, pk: int, *, perm: str | None = None, queryset: QuerySet[Action] | None = None
) -> Action:
    queryset = queryset if queryset is not None else Action.objects.select_related("team")
    return _access(user, queryset, pk, see="improvement.see_action", perm=perm)


def access_inspection(user, pk: int, *, queryset: QuerySet[Inspection] | None = None) -> Inspection:
    queryset = queryset if queryset is not None else Inspection.objects.all()
    return _access(user, queryset, pk, see="improvement.see_inspection", perm=None)


def access_authority(user, pk: int) -> Authority:
    return _access(user, Authority.objects.all(), pk, see="improvement.see_authority", perm=None)


def access_due_date_change(user, pk: int, *, perm: str | None = None) -> DueDateChange:
    queryset = DueDateChange.objects.select_related("action__team", "requested_by")
    change = get_object_or_404(queryset, pk=pk)
    if not user.has_perm("improvement.see_action", change.action):
        raise Http404
    if perm is not None and not user.has_perm(perm, change):
        raise PermissionDenied
    return change
