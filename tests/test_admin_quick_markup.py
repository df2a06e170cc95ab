"""The admin markup written in Python for speed (improvement.admin_perf, admin_rows) is Django's.

The changelist's rows, the long filters' links and the navigation sidebar's app list are written
without Django's per-cell code and template loops; each is compared here with what Django itself
writes for the same page, character for character, including values that need escaping, empty
values, links that keep the page's filters, and each branch of the app list.
"""

from __future__ import annotations

from pathlib import Path

import django
import pytest
from django.contrib import admin
from django.contrib.admin.templatetags.admin_list import items_for_result
from django.template import engines
from django.test import RequestFactory

from improvement.admin import ScopedAuthorityListFilter
from improvement.admin_perf import result_rows
from improvement.models import Action, Authority, DueDateChange, Evidence, ProgressNote
from tests import test_admin
from tests.factories import ActionFactory, AuthorityFactory, OwnerFactory
from tests.test_admin import BUILDERS, admin_url

pytestmark = pytest.mark.django_db
parents = test_admin.parents

DJANGO_ADMIN_TEMPLATES = Path(django.__file__).parent / "contrib/admin/templates/admin"


def _django_template(name: str):
    """Django's own template, not the project's override of it."""
    return engines["django"].from_string((DJANGO_ADMIN_TEMPLATES / name).read_text())


def _changelist(user, model, params):
    request = RequestFactory().get(admin_url(model, "changelist"), params)
    request.user = user
    changelist = admin.site._registry[model].get_changelist_instance(request)
    changelist.formset = None  # as changelist_view sets it when no column is editable
    return changelist


@pytest.fixture
def odd_actions(parents):
    """Actions whose text needs escaping, with and without a team, with a blank reference."""
    owner = OwnerFactory(
        first_name="<b>Jo</b>", last_name="O'Neil & co", authority=parents.authority
    )
    return [
        ActionFactory(
            authority=parents.authority,
            owner=owner,
            team=parents.team,
            reference="",
            title='Say "hello" <script>',
            improvement_areas=[parents.area],
        ),
        ActionFactory(
            authority=parents.authority,
            owner=parents.user,
            reference="  ",
            title="Plain & simple",
            improvement_areas=[parents.area],
        ),
    ]


PAGES = [
    (Action, {}),
    (Action, {"delivery_status__exact": "not_started"}),
    (Action, {"q": "simple"}),
    (Action, {"o": "-3.2"}),
    (Action, {"authority__id__exact": "PARENT"}),
    (ProgressNote, {}),
    (Evidence, {}),
    (DueDateChange, {}),
]


@pytest.mark.parametrize("page", PAGES, ids=[f"{m._meta.model_name}-{p}" for m, p in PAGES])
def test_rows_are_djangos(admin_user, parents, odd_actions, page):
    model, params = page
    params = {k: str(parents.authority.pk) if v == "PARENT" else v for k, v in params.items()}
    if model is not Action:
        BUILDERS[model](parents, 0, 3)
    changelist = _changelist(admin_user, model, params)
    rows = result_rows(changelist)
    assert rows is not None
    assert len(rows) == len(changelist.result_list) > 0
    for row, result in zip(rows, changelist.result_list, strict=True):
        assert str(row[0]) == "".join(
            str(cell) for cell in items_for_result(changelist, result, None)
        )


def test_popup_rows_are_left_to_django(admin_user, parents):
    changelist = _changelist(admin_user, Action, {"_popup": "1"})
    assert result_rows(changelist) is None


def test_filter_links_are_djangos(admin_user, parents, odd_actions):
    AuthorityFactory(name='Barnsley <&> "Metro"')
    params = {"q": "a&b<c", "delivery_status__exact": "not_started"}
    changelist = _changelist(admin_user, Action, params)
    spec = next(s for s in changelist.filter_specs if isinstance(s, ScopedAuthorityListFilter))
    choices = list(spec.choices(changelist))
    django_choices = list(admin.RelatedFieldListFilter.choices(spec, changelist))
    assert choices == django_choices
    assert Authority.objects.count() >= 2
    # Every filter of the page (choices, booleans, related), as admin/filter.html draws it.
    for spec in changelist.filter_specs:
        if not spec.has_output():
            continue
        context = {"title": spec.title, "choices": list(spec.choices(changelist)), "spec": spec}
        ours = engines["django"].get_template(spec.template).render(context)
        assert ours == _django_template("filter.html").render(context)


APP_LISTS = [
    [],
    [
        {
            "name": "Improvement <tracker>",
            "app_label": "improvement",
            "app_url": "/admin/improvement/",
            "has_module_perms": True,
            "models": [
                {
                    "name": "Actions",
                    "object_name": "Action",
                    "admin_url": "/admin/improvement/action/",
                    "add_url": "/admin/improvement/action/add/",
                    "view_only": False,
                },
                {
                    "name": "Notes & more",
                    "object_name": "ProgressNote",
                    "admin_url": "/admin/improvement/progressnote/",
                    "add_url": None,
                    "view_only": True,
                },
                {
                    "name": "Hidden",
                    "object_name": "Hidden",
                    "admin_url": None,
                    "add_url": "/admin/improvement/hidden/add/",
                },
            ],
        },
        {
            "name": "Authentication",
            "app_label": "auth",
            "app_url": "/admin/auth/",
            "has_module_perms": True,
            "models": [
                {
                    "name": "Groups",
                    "object_name": "Group",
                    "admin_url": "/admin/auth/group/",
                    "add_url": "/admin/auth/group/add/",
                    "view_only": False,
                },
            ],
        },
    ],
]


@pytest.mark.parametrize("apps", APP_LISTS, ids=["none", "some"])
@pytest.mark.parametrize("show_changelinks", [True, False])
@pytest.mark.parametrize("path", ["/admin/", "/admin/improvement/action/", "/admin/auth/group/1/"])
def test_app_list_is_djangos(rf, apps, show_changelinks, path):
    context = {"app_list": apps, "show_changelinks": show_changelinks, "request": rf.get(path)}
    ours = engines["django"].get_template("admin/app_list.html").render(context)
    assert ours == _django_template("app_list.html").render(context)


def test_app_list_is_djangos_without_a_request():
    context = {"app_list": APP_LISTS[1], "show_changelinks": True}
    ours = engines["django"].get_template("admin/app_list.html").render(context)
    assert ours == _django_template("app_list.html").render(context)
