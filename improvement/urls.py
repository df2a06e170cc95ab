from django.urls import path

from improvement.views import (
    actions,
    dashboard,
    home,
    importer,
    inspections,
    measures,
    national,
    plans,
    rounds,
    workflow,
)

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
    # The post-inspection action plan as sent (views/plans.py)
    path("inspections/<int:pk>/plan/", plans.plan_submission_record, name="plan-submission"),
    path("plans/<int:pk>/download/", plans.plan_document_download, name="plan-download"),
    # Children's outcomes: a measure's values, recorded from the page (views/measures.py)
    path("measures/<int:pk>/", measures.measure_detail, name="measure-detail"),
]

# Exports, board packs and plan import (views/packs.py)
from improvement.views import packs  # noqa: E402

urlpatterns += [
    path("actions/export.csv", packs.action_export_csv, name="action-export-csv"),
    path("actions/export.xlsx", packs.action_export_xlsx, name="action-export-xlsx"),
    path("packs/", packs.pack_list, name="pack-list"),
    path("packs/authority/<int:pk>/", packs.pack_draft, name="pack-draft"),
    path("packs/authority/<int:pk>/pdf/", packs.pack_draft_pdf, name="pack-draft-pdf"),
    path("packs/<int:pk>/", packs.pack_detail, name="pack-detail"),
    path("packs/<int:pk>/pdf/", packs.pack_frozen_pdf, name="pack-pdf"),
    path("packs/<int:pk>/html/", packs.pack_frozen_html, name="pack-html"),
    path("plan-import/", packs.plan_import_upload, name="plan-import"),
    path("plan-import/<int:pk>/", packs.plan_import_preview, name="plan-import-preview"),
]

# The board's rhythm: meetings, update rounds and the emails a person gets (views/rounds.py)
urlpatterns += [
    path("authorities/<int:pk>/board/", rounds.board_meetings, name="board-meetings"),
    path("board/<int:pk>/", rounds.board_meeting, name="board-meeting"),
    path("emails/", rounds.your_emails, name="your-emails"),
]

urlpatterns += [
    # The national overview for national and regional users (views/national.py)
    path("national/", national.national_overview, name="national"),
]
