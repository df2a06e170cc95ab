import rules
from django.conf import settings
from django.http import HttpRequest

from improvement import scope
from improvement.council_name import council_name

NAV_PERMISSIONS = {
    "my_actions": "improvement.see_my_actions",
    "plan": "improvement.see_plan",
    "dashboard": "improvement.see_dashboard",
    "deadline_register": "improvement.see_deadline_register",
    "sign_off_queue": "improvement.sign_off_actions",
    "import_report": "improvement.import_report",
    "your_emails": "improvement.see_own_emails",
}


def site(request: HttpRequest) -> dict:
    user = getattr(request, "user", None)
    # Asked of the rules alone: the model backend would add queries to every page.
    nav = {
        key: bool(user and user.is_authenticated and rules.has_perm(perm, user))
        for key, perm in NAV_PERMISSIONS.items()
    }
    return {
        # Rows name their authority only for those who see more than one.
        "reaches_many": scope.reaches_many(user),
        "council_name": council_name(request),
        "service_name": settings.SERVICE_NAME,
        "nav": nav,
    }
