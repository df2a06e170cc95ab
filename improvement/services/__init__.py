"""Every write to the improvement domain goes through these functions, grouped by area.

Views, forms, the admin, the importer and management commands call them; none writes models
directly (a guard test holds that). Each function validates (full_clean) and runs in one
transaction, so bad input leaves nothing half-written. The acting user is always `by`.
The names are re-exported here so callers can say `services.action_create`.
"""

from improvement.services.actions import (
    ConcurrentEditError,
    action_create,
    action_quick_update,
    action_reassign_owner,
    action_record_progress,
    action_update,
    milestone_add,
    milestone_set_complete,
)
from improvement.services.authorities import authority_upsert, team_create, theme_upsert
from improvement.services.bulk import (
    BulkRefused,
    actions_reassign,
    actions_set_status,
    each_or_none,
)
from improvement.services.emails import email_preferences_set
from improvement.services.evidence import (
    evidence_add_file,
    evidence_add_link,
    evidence_remove,
    evidence_retitle,
)
from improvement.services.inspections import (
    finding_add,
    improvement_area_add,
    improvement_area_set_findings,
    inspection_create,
    inspection_describe,
    judgement_add,
    plan_submission_record,
)
from improvement.services.measures import measure_create, measure_record_value
from improvement.services.records import (
    action_set_links,
    record_delete,
    record_save,
    records_delete,
)
from improvement.services.rounds import board_meeting_create, board_meeting_update
from improvement.services.users import (
    user_create,
    user_set_password,
    user_set_roles,
    user_update,
)
from improvement.services.workflow import (
    action_send_back,
    action_sign_off,
    due_date_change_decide,
    due_date_change_request,
)

__all__ = [
    "BulkRefused",
    "ConcurrentEditError",
    "action_create",
    "action_quick_update",
    "action_reassign_owner",
    "action_record_progress",
    "action_send_back",
    "action_set_links",
    "action_sign_off",
    "action_update",
    "actions_reassign",
    "actions_set_status",
    "authority_upsert",
    "board_meeting_create",
    "board_meeting_update",
    "due_date_change_decide",
    "due_date_change_request",
    "each_or_none",
    "email_preferences_set",
    "evidence_add_file",
    "evidence_add_link",
    "evidence_remove",
    "evidence_retitle",
    "finding_add",
    "improvement_area_add",
    "improvement_area_set_findings",
    "inspection_create",
    "inspection_describe",
    "judgement_add",
    "measure_create",
    "measure_record_value",
    "milestone_add",
    "milestone_set_complete",
    "plan_submission_record",
    "record_delete",
    "record_save",
    "records_delete",
    "team_create",
    "theme_upsert",
    "user_create",
    "user_set_password",
    "user_set_roles",
    "user_update",
]
