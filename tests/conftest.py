import pytest
from django.contrib.auth.models import Group
from django.core.cache import cache

from improvement import roles
from tests.factories import LeaderFactory, OwnerFactory, UserFactory


@pytest.fixture(autouse=True)
def role_groups(request):
    """The role groups come from a data migration; transactional tests flush them, so remake."""
    if "_django_db_helper" not in request.fixturenames:
        return
    request.getfixturevalue("_django_db_helper")
    for name in roles.ALL_ROLES:
        Group.objects.get_or_create(name=name)


@pytest.fixture(autouse=True)
def fresh_cache():
    """Cached figures (dashboard, national overview) are per test, as they are per deployment."""
    cache.clear()
    yield
    cache.clear()


@pytest.fixture
def owner(db):
    return OwnerFactory(username="owner")


@pytest.fixture
def leader(db):
    return LeaderFactory(username="leader")


@pytest.fixture
def administrator(db):
    user = UserFactory(username="administrator", is_staff=True, is_superuser=True)
    user.groups.add(Group.objects.get(name=roles.ADMINISTRATOR))
    return user


@pytest.fixture
def board_viewer(db):
    return UserFactory(username="board", role=roles.BOARD_VIEWER)
