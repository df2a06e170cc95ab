"""The changelist's rows and long filters, written in Python (see improvement.admin_perf)."""

from __future__ import annotations

from urllib.parse import quote

from django import template
from django.contrib.admin.templatetags.admin_list import (
    result_headers,
    result_hidden_fields,
    result_list,
)
from django.contrib.admin.templatetags.base import InclusionAdminNode
from django.utils.encoding import iri_to_uri
from django.utils.safestring import mark_safe
from django.utils.translation import gettext

from improvement.admin_perf import _conditional_escape as _escape
from improvement.admin_perf import result_rows

register = template.Library()


def quick_result_list(cl):
    """Django's result_list, with each row's cells written at once."""
    rows = result_rows(cl)
    if rows is None:
        return result_list(cl)
    headers = list(result_headers(cl))
    return {
        "cl": cl,
        "result_hidden_fields": list(result_hidden_fields(cl)),
        "result_headers": headers,
        "num_sorted_fields": sum(1 for h in headers if h["sortable"] and h["sorted"]),
        "results": rows,
    }


@register.tag(name="quick_result_list")
def quick_result_list_tag(parser, token):
    return InclusionAdminNode(
        parser,
        token,
        func=quick_result_list,
        template_name="change_list_results.html",
        takes_context=False,
    )


@register.filter(is_safe=True)
def filter_choice_items(choices) -> str:
    """Each choice's item as admin/filter.html's loop writes it (see admin_perf.QuickChoicesFilter).

    The query string is escaped after iri_to_uri, and the label escaped, as the template does.
    """
    items = []
    for choice in choices:
        selected = ' class="selected"' if choice["selected"] else ""
        href = _escape(iri_to_uri(choice["query_string"]))
        items.append(
            f'\n    <li{selected}>\n    <a href="{href}">{_escape(choice["display"])}</a></li>\n  '
        )
    return mark_safe("".join(items))  # noqa: S308 - every value escaped above


@register.simple_tag(takes_context=True)
def quick_app_list(context) -> str:
    """admin/app_list.html, written here: the same markup, without the template's tags per model.

    Every admin page draws it in the navigation sidebar (twenty-odd models, each row testing the
    page's path three times); as a template that was a tenth of a changelist's time.
    """
    app_list = context.get("app_list")
    show_changelinks = context.get("show_changelinks")
    request = context.get("request")
    path = quote(request.path) if request is not None else ""
    if not app_list:
        message = _escape(gettext("You don’t have permission to view or edit anything."))
        return mark_safe(f"\n\n\n  <p>{message}</p>\n\n")  # noqa: S308 - escaped
    words = {
        key: _escape(gettext(text))
        for key, text in (
            ("model", "Model name"),
            ("add_link", "Add link"),
            ("change_link", "Change or view list link"),
            ("add", "Add"),
            ("view", "View"),
            ("change", "Change"),
        )
    }
    apps = [_app_markup(app, path, show_changelinks, words) for app in app_list]
    return mark_safe("\n\n\n  " + "".join(apps) + "\n\n")  # noqa: S308 - escaped in _app_markup


def _app_markup(app, path: str, show_changelinks, words: dict[str, str]) -> str:
    label = _escape(app["app_label"])
    app_url = app["app_url"]
    current = " current-app" if app_url in path else ""
    name = _escape(app["name"])
    title = gettext("Models in the %(name)s application") % {"name": name}
    models = "".join(
        "\n          " + _model_markup(model, label, path, show_changelinks, words) + "\n        "
        for model in app["models"]
    )
    return (
        f'\n    <div class="app-{label} module{current}">\n      <table>\n        <caption>\n'
        f'          <a href="{_escape(app_url)}" class="section" title="{title}">{name}</a>\n'
        "        </caption>\n"
        '        <thead class="visually-hidden">\n'
        "          <tr>\n"
        f'            <th scope="col">{words["model"]}</th>\n'
        f'            <th scope="col">{words["add_link"]}</th>\n'
        f'            <th scope="col">{words["change_link"]}</th>\n'
        "          </tr>\n"
        "        </thead>\n"
        f"        {models}\n"
        "      </table>\n"
        "    </div>\n  "
    )


def _model_markup(model, label: str, path: str, show_changelinks, words: dict[str, str]) -> str:
    model_name = _escape(str(model["object_name"]).lower())
    admin_url = model.get("admin_url")
    add_url = model.get("add_url")
    name = _escape(model["name"])
    here = bool(admin_url) and admin_url in path
    row_id = f"{label}-{model_name}"
    if admin_url:
        aria = ' aria-current="page"' if here else ""
        title = (
            f'\n                  <a href="{_escape(admin_url)}"{aria}>{name}</a>\n                '
        )
    else:
        title = f"\n                  {name}\n                "
    if add_url:
        add = (
            f'\n                <td><a href="{_escape(add_url)}" class="addlink"'
            f' aria-describedby="{row_id}">{words["add"]}</a></td>\n              '
        )
    else:
        add = "\n                <td></td>\n              "
    if admin_url and show_changelinks:
        kind, word = (
            ("viewlink", words["view"])
            if model.get("view_only")
            else ("changelink", words["change"])
        )
        change = (
            "\n                \n"
            f'                  <td><a href="{_escape(admin_url)}" class="{kind}"'
            f' aria-describedby="{row_id}">{word}</a></td>\n                \n              '
        )
    elif show_changelinks:
        change = "\n                <td></td>\n              "
    else:
        change = ""
    return (
        f'\n            <tr class="model-{model_name}{" current-model" if here else ""}">\n'
        f'              <th scope="row" id="{row_id}">\n'
        f"                {title}\n              </th>\n\n"
        f"              {add}\n\n              {change}\n            </tr>\n          "
    )
