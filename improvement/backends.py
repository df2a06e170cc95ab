"""Signing in and the signed-in user: Django's model backend, reading the roles with the user."""

from __future__ import annotations

from django.contrib.auth.backends import ModelBackend
from django.db.models import F

from improvement.models import User


class RoleLoadingBackend(ModelBackend):
    """Django's ModelBackend, whose session user comes with the names of their groups (their
    roles, improvement.roles) from the same query: every page asks for the roles
    (improvement.rules), and a second query on every request cost more than the join."""

    def get_user(self, user_id):
        rows = list(
            User._default_manager.filter(pk=user_id)
            .annotate(role_name=F("groups__name"))
            .order_by()
        )
        if not rows or not self.user_can_authenticate(rows[0]):
            return None
        user = rows[0]
        # What improvement.rules would otherwise read with user.groups, for this request.
        user._role_names = {row.role_name for row in rows if row.role_name is not None}
        return user
