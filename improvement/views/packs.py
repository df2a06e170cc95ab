"""Exports of the action list, the board pack (page, PDF, frozen packs) and plan import."""

from __future__ import annotations

import io

from django.contrib import messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.paginator import Paginator
from django.http import (
    FileResponse,
    Http404,
    HttpRequest,
    HttpResponse,
    StreamingHttpResponse,
)
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.text import slugify
from django.views.decorators.http import require_GET, require_http_methods

from improvement import exports, scope
from improvement.access import access_authority
from improvement.filters import ActionFilter
from improvement.forms.packs import BoardDateForm, PlanImportForm
from improvement.models import Authority, BoardPack, Inspection, PlanImport
from improvement.selectors import actions as action_reads
from improvement.selectors import packs as pack_reads
from improvement.services import packs as pack_services
from improvement.services import plan_import as plan_import_services

XLSX_TYPE = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
PACKS_PAGE_SIZE = 25


def _attachment(filename: str) -> str:
    return f'attachment; filename="{filename}"'


# Exports


@require_GET
def action_export(request: HttpRequest, fmt: str) -> HttpResponse | StreamingHttpResponse:
    """The action list as CSV or XLSX: the same filters and scope as the page, streamed (an
    XLSX of more than exports.XLSX_MAX_ROWS actions is refused with a page offering CSV)."""
    if not request.user.has_perm("improvement.export_actions"):
        raise PermissionDenied
    today, now = timezone.localdate(), timezone.now()
    action_filter = ActionFilter(
        request.GET,
        queryset=action_reads.actions_visible_to(user=request.user),
        request=request,
        today=today,
        now=now,
    )
    if fmt == "xlsx" and exports.too_many_for_xlsx(action_filter.qs):
        return render(
            request,
            "improvement/export_too_long.html",
            {"max_rows": exports.XLSX_MAX_ROWS},
        )
    rows = exports.export_rows(action_filter.qs)
    name = f"actions-{today:%Y-%m-%d}"
    if fmt == "csv":
        response = StreamingHttpResponse(
            exports.csv_stream(rows), content_type="text/csv; charset=utf-8"
        )
        response["Content-Disposition"] = _attachment(f"{name}.csv")
    else:
        response = StreamingHttpResponse(iter(exports.xlsx_file(rows)), content_type=XLSX_TYPE)
        response["Content-Disposition"] = _attachment(f"{name}.xlsx")
    response["Cache-Control"] = "no-store"
    return response


def action_export_csv(request: HttpRequest) -> StreamingHttpResponse:
    return action_export(request, "csv")


def action_export_xlsx(request: HttpRequest) -> HttpResponse | StreamingHttpResponse:
    return action_export(request, "xlsx")


# Board packs


def _require_role(request: HttpRequest) -> None:
    if not request.user.has_perm("improvement.see_plan"):
        raise PermissionDenied


@require_GET
def pack_list(request: HttpRequest) -> HttpResponse:
    """Frozen packs the user may see, and the authorities whose pack they can prepare."""
    _require_role(request)
    packs = pack_reads.frozen_packs_visible_to(user=request.user)
    page = Paginator(packs, PACKS_PAGE_SIZE).get_page(request.GET.get("page"))
    return render(
        request,
        "packs/pack_list.html",
        {
            "page_obj": page,
            "packs": page.object_list,
            "authorities": scope.authorities_for(request.user).only("pk", "name"),
        },
    )


def _pdf_response(pdf: bytes, filename: str) -> FileResponse:
    return FileResponse(
        io.BytesIO(pdf), as_attachment=True, filename=filename, content_type="application/pdf"
    )


def _board_date_form(request: HttpRequest) -> BoardDateForm:
    if "board_date" in request.GET:
        return BoardDateForm(request.GET)
    return BoardDateForm({"board_date": timezone.localdate().strftime("%d/%m/%Y")})


def _pack_filename(authority: Authority, board_date, suffix: str) -> str:
    return f"board-pack-{slugify(authority.name)}-{board_date:%Y-%m-%d}.{suffix}"


@require_http_methods(["GET", "POST"])
def pack_draft(request: HttpRequest, pk: int) -> HttpResponse:
    """The pack as the plan stands, for a meeting; leaders freeze it from here."""
    authority = access_authority(request.user, pk)
    can_freeze = request.user.has_perm("improvement.freeze_board_pack", authority)
    if request.method == "POST":
        if not can_freeze:
            raise PermissionDenied
        form = BoardDateForm(request.POST)
        if form.is_valid():
            try:
                pack = pack_services.board_pack_freeze(
                    authority=authority,
                    board_date=form.cleaned_data["board_date"],
                    by=request.user,
                    now=timezone.now(),
                )
            except ValidationError as error:
                form.add_error(None, error)
            else:
                messages.success(request, f"The pack for {pack.board_date:%d %B %Y} is frozen.")
                return redirect(pack)
    else:
        form = _board_date_form(request)
    pack = None
    frozen = None
    if form.is_valid():
        board_date = form.cleaned_data["board_date"]
        pack = pack_reads.pack_view(
            pack_reads.pack_content(
                authority=authority,
                board_date=board_date,
                today=timezone.localdate(),
                now=timezone.now(),
            )
        )
        frozen = (
            BoardPack.objects.filter(authority=authority, board_date=board_date)
            .defer("content", "html")
            .first()
        )
    return render(
        request,
        "packs/pack_page.html",
        {
            "authority": authority,
            "form": form,
            "pack": pack,
            "frozen": frozen,
            "can_freeze": can_freeze,
        },
    )


@require_GET
def pack_draft_pdf(request: HttpRequest, pk: int) -> HttpResponse:
    authority = access_authority(request.user, pk)
    form = _board_date_form(request)
    if not form.is_valid():
        return redirect(f"{reverse('improvement:pack-draft', args=[pk])}?{request.GET.urlencode()}")
    board_date = form.cleaned_data["board_date"]
    content = pack_reads.pack_content(
        authority=authority,
        board_date=board_date,
        today=timezone.localdate(),
        now=timezone.now(),
    )
    pdf = pack_services.cached_pack_pdf(pack_services.pack_html(content))
    return _pdf_response(pdf, _pack_filename(authority, board_date, "pdf"))


def _access_pack(request: HttpRequest, pk: int, *, defer: tuple[str, ...] = ()) -> BoardPack:
    packs = BoardPack.objects.select_related("authority", "frozen_by").defer(*defer)
    pack = get_object_or_404(packs, pk=pk)
    if not request.user.has_perm("improvement.see_board_pack", pack):
        raise Http404
    return pack


@require_GET
def pack_detail(request: HttpRequest, pk: int) -> HttpResponse:
    # The page shows the content; the frozen HTML is a download of its own.
    pack = _access_pack(request, pk, defer=("html",))
    return render(
        request,
        "packs/pack_detail.html",
        # No links into today's action list: a frozen pack's counts are those of its day.
        {"frozen": pack, "pack": pack_reads.pack_view(pack.content), "document": True},
    )


@require_GET
def pack_frozen_pdf(request: HttpRequest, pk: int) -> FileResponse:
    """The PDF of exactly the HTML that was frozen."""
    pack = _access_pack(request, pk)
    pdf = pack_services.frozen_pack_pdf(pack)
    return _pdf_response(pdf, _pack_filename(pack.authority, pack.board_date, "pdf"))


@require_GET
def pack_frozen_html(request: HttpRequest, pk: int) -> HttpResponse:
    """The frozen HTML itself, as a download whose SHA-256 matches the one recorded."""
    pack = _access_pack(request, pk)
    response = HttpResponse(pack.html, content_type="text/html; charset=utf-8")
    response["Content-Disposition"] = _attachment(
        _pack_filename(pack.authority, pack.board_date, "html")
    )
    return response


# Plan import


def _plan_inspections(request: HttpRequest):
    inspections = Inspection.objects.select_related("authority").order_by(
        "authority__name", "-start_date", "-publication_date", "-pk"
    )
    return scope.restrict(inspections, request.user)


@require_http_methods(["GET", "POST"])
def plan_import_upload(request: HttpRequest) -> HttpResponse:
    if not request.user.has_perm("improvement.start_plan_import"):
        raise PermissionDenied
    inspections = _plan_inspections(request)
    if request.method == "POST":
        form = PlanImportForm(request.POST, request.FILES, inspections=inspections)
        if form.is_valid():
            inspection = form.cleaned_data["inspection"]
            if not request.user.has_perm("improvement.import_plan", inspection):
                raise PermissionDenied
            upload = form.cleaned_data["file"]
            try:
                plan_import = plan_import_services.plan_import_preview(
                    inspection=inspection,
                    filename=upload.name,
                    data=upload.read(),
                    by=request.user,
                    now=timezone.now(),
                )
            except plan_import_services.PlanFileError as error:
                form.add_error("file", str(error))
            else:
                return redirect("improvement:plan-import-preview", pk=plan_import.pk)
    else:
        form = PlanImportForm(inspections=inspections)
    return render(request, "packs/plan_import_upload.html", {"form": form})


@require_http_methods(["GET", "POST"])
def plan_import_preview(request: HttpRequest, pk: int) -> HttpResponse:
    queryset = PlanImport.objects.select_related("inspection__authority", "uploaded_by")
    plan_import = get_object_or_404(scope.restrict(queryset, request.user), pk=pk)
    if not request.user.has_perm("improvement.see_authority", plan_import.authority_id):
        raise Http404
    if not request.user.has_perm("improvement.import_plan", plan_import):
        raise PermissionDenied
    error = None
    if request.method == "POST":
        try:
            plan_import = plan_import_services.plan_import_confirm(
                plan_import=plan_import, by=request.user, now=timezone.now()
            )
        except ValidationError as refused:
            error = " ".join(refused.messages)
        else:
            messages.success(
                request,
                f"Imported {plan_import.created_count} new action"
                f"{'s' if plan_import.created_count != 1 else ''}; "
                f"{plan_import.skipped_count} already in the plan.",
            )
            return redirect("improvement:plan-import-preview", pk=plan_import.pk)
    rows = plan_import.rows
    error_rows = [row for row in rows if row["errors"]]
    return render(
        request,
        "packs/plan_import_preview.html",
        {
            "plan_import": plan_import,
            "rows": rows,
            "error_rows": error_rows,
            "new_count": sum(1 for r in rows if not r["exists"] and not r["errors"]),
            "existing_count": sum(1 for r in rows if r["exists"]),
            "earlier": plan_import_services.already_imported(plan_import),
            "error": error,
        },
    )
