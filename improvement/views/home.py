from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect

from improvement import rules as tracker_rules


def home(request: HttpRequest) -> HttpResponse:
    """Owners land on their actions; leaders, board viewers and administrators on the dashboard."""
    user = request.user
    if tracker_rules.is_action_owner(user) and not tracker_rules.is_leader_or_admin(user):
        return redirect("improvement:my-actions")
    return redirect("improvement:dashboard")
