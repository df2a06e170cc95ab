"""The four roles, held as Django groups (created by a data migration)."""

ADMINISTRATOR = "Administrator"
ACTION_OWNER = "Action owner"
SENIOR_LEADER = "Senior leader"
BOARD_VIEWER = "Board viewer"

ALL_ROLES = (ADMINISTRATOR, ACTION_OWNER, SENIOR_LEADER, BOARD_VIEWER)
