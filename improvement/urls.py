from django.urls import path

from improvement.views import actions, dashboard, home, importer, inspections, national, workflow

app_name = "improvement"

urlpatterns = [
    path("", home.home, name="home"),
    path("dashboard/", dashboard.dashboard, name="dashboard"),
    path("dashboard/<int:pk>/", dashboard.dashboard_authority, name="dashboard-authority"),
    path("my-actions/", actions.my_actions, name="my-actions"),
    path("actions/", actions.action_list, name="action-list"),
    path("actions/<int:pk>/", actions.action_detail, name="action-detail"),
    path("actions/<int:pk>/update/", actions.action_update, name="action-update"),
    path("evidence/<int:pk>/download/", actions.evidence_download, name="evidence-download"),
    # Deadline changes, sign-off and inspections (views/workflow.py, views/inspections.py)
    path("actions/<int:pk>/deadline/", workflow.deadline_request, name="deadline-request"),
    path("deadlines/", workflow.deadline_list, name="deadline-list"),
    path("deadlines/<int:pk>/", workflow.deadline_decide, name="deadline-decide"),
    path("sign-off/", workflow.sign_off_list, name="sign-off-list"),
    path("actions/<int:pk>/sign-off/", workflow.action_sign_off, name="action-sign-off"),
    path("actions/<int:pk>/send-back/", workflow.action_send_back, name="action-send-back"),
    path("inspections/", inspections.inspection_list, name="inspection-list"),
    path("inspections/<int:pk>/", inspections.inspection_detail, name="inspection-detail"),
    # Ofsted report import (views/importer.py)
    path("import/", importer.report_import_upload, name="report-import"),
    path(
        "import/<str:sha256>/",
        importer.report_import_preview,
        name="report-import-preview",
    ),
    # The national overview for national and regional users (views/national.py)
    path("national/", national.national_overview, name="national"),
]
