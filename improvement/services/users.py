"""Writes for users: who may create, change and grant roles to whom.

An authority's administrator manages only the users of their authority, grants no role above
their own, no wider reach than their own, never staff or superuser status, and cannot change
their own roles or reach. Superusers (the platform's own administrators) may do anything. Every
route that writes users (the admin, commands, a future page) comes through here.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from django.contrib.auth.models import Group, Permission
from django.contrib.auth.password_validation import validate_password
from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import QuerySet

from improvement import roles, scope
from improvement.models import Authority, User

# A role may grant itself and the roles below it.
ROLE_RANK: dict[str, int] = {
    roles.BOARD_VIEWER: 1,
    roles.ACTION_OWNER: 2,
    roles.SENIOR_LEADER: 3,
    roles.ADMINISTRATOR: 4,
}
REACH_RANK: dict[str, int] = {
    User.Reach.AUTHORITY: 1,
    User.Reach.REGION: 2,
    User.Reach.NATIONAL: 3,
}
PROFILE_FIELDS = frozenset({"username", "first_name", "last_name", "email", "job_title"})
GRANT_FIELDS = frozenset({"authority", "reach", "region", "is_active", "is_staff", "is_superuser"})
UPDATABLE_FIELDS = PROFILE_FIELDS | GRANT_FIELDS


def _role_names(user: User) -> set[str]:
    return set(user.groups.values_list("name", flat=True)) if user.pk else set()


def _rank_of(user: User) -> int:
    """The highest role rank the user holds (0 for none)."""
    return max((ROLE_RANK.get(name, 0) for name in _role_names(user)), default=0)


def may_manage_users(by: User) -> bool:
    """Superusers, and administrators who reach at least one authority."""
    if not (by.is_authenticated and by.is_active):
        return False
    if by.is_superuser:
        return True
    return roles.ADMINISTRATOR in _role_names(by) and scope.reach_of(by) is not None


def grantable_roles(by: User) -> QuerySet[Group]:
    """The groups `by` may give: every group for a superuser, else roles up to their own."""
    if by.is_superuser:
        return Group.objects.order_by("name")
    if not may_manage_users(by):
        return Group.objects.none()
    rank = _rank_of(by)
    names = [name for name, value in ROLE_RANK.items() if value <= rank]
    return Group.objects.filter(name__in=names).order_by("name")


def manageable_users(by: User) -> QuerySet[User]:
    """The users `by` may see and change in the admin."""
    if by.is_superuser:
        return User.objects.all()
    if not may_manage_users(by):
        return User.objects.none()
    return scope.restrict(User.objects.all(), by).filter(is_superuser=False)


def _refuse_unmanageable(by: User, user: User) -> None:
    if by.is_superuser:
        return
    if not may_manage_users(by):
        raise ValidationError("You may not manage users.")
    if user.is_superuser or not scope.can_reach(by, user):
        raise ValidationError("You may manage only the users of your own authority.")
    if user.pk != by.pk and _rank_of(user) > _rank_of(by):
        raise ValidationError("You may not change a user whose role is above your own.")
    if REACH_RANK.get(user.reach, 0) > REACH_RANK[scope.reach_of(by)]:
        raise ValidationError("You may not change a user whose reach is wider than your own.")


def _refuse_escalation(
    by: User,
    user: User,
    *,
    before: dict[str, Any],
    groups: Iterable[Group] | None,
    permissions: Iterable[Permission] | None,
) -> None:
    """Refuse any grant beyond `by`'s own: field by field, so the form shows where."""
    if by.is_superuser:
        return
    errors: dict[str, list[str]] = {}

    def refuse(field: str, message: str) -> None:
        errors.setdefault(field, []).append(message)

    changed = {f for f in GRANT_FIELDS if getattr(user, f) != before.get(f)}
    if user.pk is not None and user.pk == by.pk:
        for field in sorted(changed):
            refuse(field, "You cannot change your own access; ask another administrator.")
        if groups is not None and {g.name for g in groups} != _role_names(by):
            refuse("groups", "You cannot change your own roles; ask another administrator.")
    if "is_superuser" in changed or (user.is_superuser and user.pk is None):
        refuse("is_superuser", "Only a platform administrator can grant superuser status.")
    if user.is_staff and (user.pk is None or "is_staff" in changed):
        refuse("is_staff", "Only a platform administrator can grant staff status.")
    by_reach = scope.reach_of(by)
    if REACH_RANK.get(user.reach, 0) > REACH_RANK[by_reach]:
        refuse("reach", "You cannot grant a wider reach than your own.")
    elif (
        user.reach == User.Reach.REGION
        and by_reach == User.Reach.REGION
        and user.region != by.region
    ):
        refuse("region", "You can grant only your own region.")
    if user.authority_id is None:
        if by_reach == User.Reach.AUTHORITY:
            refuse("authority", "Choose your own authority.")
    elif not scope.can_reach(by, user.authority_id):
        refuse("authority", "You may manage only the users of your own authority.")
    if groups is not None:
        allowed = set(grantable_roles(by).values_list("pk", flat=True))
        above = sorted(g.name for g in groups if g.pk not in allowed)
        if above:
            refuse("groups", f"You cannot grant {', '.join(above)}: it is above your own role.")
    if permissions is not None and list(permissions):
        refuse("user_permissions", "Only a platform administrator can grant permissions.")
    if errors:
        raise ValidationError(errors)


def _snapshot(user: User) -> dict[str, Any]:
    return {f: getattr(user, f) for f in GRANT_FIELDS}


@transaction.atomic
def user_create(
    *,
    by: User,
    username: str,
    password: str | None = None,
    first_name: str = "",
    last_name: str = "",
    email: str = "",
    job_title: str = "",
    authority: Authority | None = None,
    reach: str = User.Reach.AUTHORITY,
    region: str = "",
    is_active: bool = True,
    is_staff: bool = False,
    is_superuser: bool = False,
    groups: Iterable[Group] = (),
    user_permissions: Iterable[Permission] = (),
) -> User:
    """Create a user within `by`'s grant; no password means none usable (set one later)."""
    if not may_manage_users(by):
        raise ValidationError("You may not manage users.")
    groups, user_permissions = list(groups), list(user_permissions)
    user = User(
        username=username,
        first_name=first_name,
        last_name=last_name,
        email=email,
        job_title=job_title,
        authority=authority,
        reach=reach,
        region=region,
        is_active=is_active,
        is_staff=is_staff,
        is_superuser=is_superuser,
    )
    # Compared with a new user's defaults, so only real grants count as changes.
    before = _snapshot(User())
    _refuse_escalation(by, user, before=before, groups=groups, permissions=user_permissions)
    if password:
        validate_password(password, user)
        user.set_password(password)
    else:
        user.set_unusable_password()
    user.full_clean()
    user.save()
    user.groups.set(groups)
    user.user_permissions.set(user_permissions)
    return user


@transaction.atomic
def user_update(
    *,
    user: User,
    by: User,
    groups: Iterable[Group] | None = None,
    user_permissions: Iterable[Permission] | None = None,
    **changes: Any,
) -> User:
    """Change a user's profile and grants; roles and permissions are replaced when given."""
    unknown = set(changes) - UPDATABLE_FIELDS
    if unknown:
        raise ValueError(f"user_update cannot change {', '.join(sorted(unknown))}")
    # Work on the stored row, not the caller's instance: `user` may be `by` itself, and
    # setting the new values on it first would change who is asking.
    stored = User.objects.select_for_update().get(pk=user.pk)
    _refuse_unmanageable(by, stored)
    before = _snapshot(stored)
    for key, value in changes.items():
        setattr(stored, key, value)
    groups = list(groups) if groups is not None else None
    user_permissions = list(user_permissions) if user_permissions is not None else None
    kept: list[Group] = []
    groups_to_check = groups
    if groups is not None and not by.is_superuser and stored.pk != by.pk:
        # Groups `by` may not grant (set by a platform administrator) stay as they are.
        kept = list(stored.groups.exclude(pk__in=grantable_roles(by)))
        groups_to_check = [g for g in groups if g not in kept]
    _refuse_escalation(
        by, stored, before=before, groups=groups_to_check, permissions=user_permissions
    )
    stored.full_clean(exclude=["password"])
    stored.save()
    if groups is not None:
        stored.groups.set({*groups, *kept})
    if user_permissions is not None:
        stored.user_permissions.set(user_permissions)
    for key in UPDATABLE_FIELDS:
        setattr(user, key, getattr(stored, key))
    return user


def user_set_roles(*, user: User, by: User, groups: Iterable[Group]) -> User:
    """Replace a user's roles (groups), within what `by` may grant."""
    return user_update(user=user, by=by, groups=groups)


@transaction.atomic
def user_set_password(*, user: User, by: User, password: str | None) -> User:
    """Set a user's password (None: no usable password, so they cannot sign in with one)."""
    stored = User.objects.select_for_update().get(pk=user.pk)
    if stored.pk != by.pk:
        _refuse_unmanageable(by, stored)
    if password is None:
        stored.set_unusable_password()
    else:
        validate_password(password, stored)
        stored.set_password(password)
    stored.save(update_fields=["password"])
    user.password = stored.password
    return user
