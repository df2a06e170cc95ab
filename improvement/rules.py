"""Who may do what: every permission rule of the tracker, in one module.

Pages check these with `user.has_perm(perm, obj)`; `access_*` helpers turn "may not see" into
404 so that the existence of other authorities' records is not revealed. Roles are groups;
reach (which authorities) is improvement.scope's answer.
"""

from __future__ import annotations

import rules
from django.apps import apps

from improvement import roles, scope

# Roles


def _in_group(name: str):
    @rules.predicate(name=f"in_group:{name}")
    def predicate(user) -> bool:
        if not user.is_authenticated:
            return False
        # Cached per request object so one page does not ask the database once per check.
        names = getattr(user, "_role_names", None)
        if names is None:
            names = set(user.groups.values_list("name", flat=True))
            user._role_names = names
        return name in names

    return predicate


@rules.predicate
def is_superuser(user) -> bool:
    return bool(user.is_authenticated and user.is_superuser)


is_administrator = is_superuser | _in_group(roles.ADMINISTRATOR)
is_senior_leader = _in_group(roles.SENIOR_LEADER)
is_board_viewer = _in_group(roles.BOARD_VIEWER)
is_action_owner = _in_group(roles.ACTION_OWNER)
has_any_role = is_administrator | is_senior_leader | is_board_viewer | is_action_owner
is_leader_or_admin = is_administrator | is_senior_leader


# Scope: whatever the object, the one answer of improvement.scope.


@rules.predicate
def in_scope(user, obj) -> bool:
    return scope.can_reach(user, obj)


# Ownership


@rules.predicate
def owns_action(user, action) -> bool:
    return action is not None and action.owner_id == user.pk


@rules.predicate
def leads_actions_team(user, action) -> bool:
    return action is not None and action.team_id is not None and action.team.lead_id == user.pk


@rules.predicate
def action_is_open(user, action) -> bool:
    return action is not None and not action.is_closed


@rules.predicate
def did_not_request(user, change) -> bool:
    return change is not None and change.requested_by_id != user.pk


@rules.predicate
def does_not_own_action(user, action) -> bool:
    return action is not None and action.owner_id != user.pk


may_see = has_any_role & in_scope
may_update_action = (
    in_scope
    & action_is_open
    & (
        is_administrator
        | (is_action_owner & (owns_action | leads_actions_team))
        | (is_senior_leader & owns_action)
    )
)

rules.add_perm("improvement.see_authority", may_see)
rules.add_perm("improvement.see_inspection", may_see)
rules.add_perm("improvement.see_action", may_see)
rules.add_perm("improvement.update_action", may_update_action)
# Separation of duties: nobody approves their own deadline or signs off their own action.
rules.add_perm("improvement.decide_deadline", in_scope & is_leader_or_admin & did_not_request)
rules.add_perm(
    "improvement.sign_off_action",
    in_scope & is_leader_or_admin & does_not_own_action,
)
rules.add_perm("improvement.import_report", is_administrator)
rules.add_perm("improvement.see_dashboard", has_any_role)


@rules.predicate
def reaches_many(user) -> bool:
    return scope.reaches_many(user)


# The national overview: for those granted national or regional reach.
rules.add_perm("improvement.see_national_overview", has_any_role & reaches_many)
rules.add_perm("improvement.see_plan", has_any_role)
# Workflow queues. Everyone with a role sees the slippage register, owners only the requests that
# involve them; the sign-off queue is for those who sign off, and read-only for the board.
rules.add_perm("improvement.see_deadline_register", has_any_role)
rules.add_perm("improvement.see_whole_deadline_register", is_leader_or_admin | is_board_viewer)
rules.add_perm("improvement.see_sign_off_queue", is_leader_or_admin | is_board_viewer)
# The board's calendar: everyone in scope sees the rounds; leaders and administrators set dates.
rules.add_perm("improvement.see_board_meetings", may_see)
rules.add_perm("improvement.manage_board_meetings", has_any_role & in_scope & is_leader_or_admin)
rules.add_perm("improvement.see_own_emails", has_any_role)


# Navigation by role: nobody is offered a page they cannot use. My actions is for those who can
# own actions (board viewers cannot); the sign-off queue is offered to those who sign off (the
# board may still read it from a link).
rules.add_perm("improvement.see_my_actions", is_action_owner | is_leader_or_admin)
rules.add_perm("improvement.sign_off_actions", is_leader_or_admin)

# Plans sent after an inspection: recorded by those who answer for the plan.
rules.add_perm("improvement.record_plan_submission", in_scope & is_leader_or_admin)


@rules.predicate
def owns_a_measured_action(user, measure) -> bool:
    return measure is not None and measure.actions.filter(owner_id=user.pk).exists()


rules.add_perm("improvement.see_measure", may_see)
# Children's outcomes: recorded by a leader, or by the owner of an action the measure tracks.
rules.add_perm(
    "improvement.record_measure_value",
    in_scope & (is_leader_or_admin | (is_action_owner & owns_a_measured_action)),
)


def _admin_model_permissions() -> None:
    """The Administrator role may use every model in the Django admin."""
    rules.add_perm("improvement", is_administrator)
    for model in apps.get_app_config("improvement").get_models():
        name = model._meta.model_name
        for verb in ("add", "change", "delete", "view"):
            rules.add_perm(f"improvement.{verb}_{name}", is_administrator)


_admin_model_permissions()


# Board packs, exports and plan imports (views/packs.py). Anyone with a role may export what they
# see and read the packs of their authorities; leaders freeze packs and import plans.
rules.add_perm("improvement.export_actions", has_any_role)
rules.add_perm("improvement.see_board_pack", may_see)
rules.add_perm("improvement.freeze_board_pack", in_scope & is_leader_or_admin)
rules.add_perm("improvement.import_plan", in_scope & is_leader_or_admin)
rules.add_perm("improvement.start_plan_import", is_leader_or_admin)
