"""One scope: every read narrows through improvement.scope, and reach is an explicit grant."""

import pytest
from django.db import IntegrityError

from improvement import scope
from improvement.models import Action, Authority, User
from tests.factories import ActionFactory, AuthorityFactory, UserFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def north_west():
    return [
        AuthorityFactory(name="Knowsley", region="North West"),
        AuthorityFactory(name="Sefton", region="North West"),
    ]


@pytest.fixture
def elsewhere():
    return AuthorityFactory(name="Devon", region="South West")


def test_a_user_with_no_grant_sees_nothing(north_west, elsewhere):
    """No authority and no reach: nothing, rather than every authority (fails closed)."""
    ActionFactory(authority=north_west[0])
    user = UserFactory(reach=User.Reach.AUTHORITY)
    assert user.authority_id is None
    assert scope.reach_of(user) is None
    assert not scope.authorities_for(user).exists()
    assert not scope.restrict(Action.objects.all(), user).exists()
    assert not scope.can_reach(user, north_west[0])


def test_authority_reach_sees_its_own_authority_only(north_west, elsewhere):
    own = ActionFactory(authority=north_west[0])
    ActionFactory(authority=north_west[1])
    user = UserFactory(authority=north_west[0])
    assert list(scope.restrict(Action.objects.all(), user)) == [own]
    assert list(scope.authorities_for(user)) == [north_west[0]]
    assert scope.can_reach(user, own) and not scope.can_reach(user, north_west[1])


def test_regional_reach_sees_its_region(north_west, elsewhere):
    ActionFactory(authority=elsewhere)
    for authority in north_west:
        ActionFactory(authority=authority)
    user = UserFactory(reach=User.Reach.REGION, region="North West")
    assert set(scope.authorities_for(user)) == set(north_west)
    assert scope.restrict(Action.objects.all(), user).count() == 2
    assert scope.can_reach(user, north_west[1].pk)
    assert not scope.can_reach(user, elsewhere)
    assert scope.reaches_many(user)


def test_national_reach_is_a_grant(north_west, elsewhere):
    user = UserFactory(reach=User.Reach.NATIONAL)
    assert scope.authorities_for(user).count() == Authority.objects.count()
    assert scope.can_reach(user, elsewhere)


def test_inactive_users_reach_nothing(north_west):
    user = UserFactory(authority=north_west[0], is_active=False)
    assert not scope.authorities_for(user).exists()


def test_regional_reach_needs_a_region_in_the_database():
    """The database refuses a regional grant without its region, whatever the route."""
    with pytest.raises(IntegrityError):
        User.objects.create(username="nowhere", reach=User.Reach.REGION, region="")


def test_every_scoped_model_has_a_path_to_its_authority():
    """A model missing from AUTHORITY_PATHS could not be narrowed: every model that can reach an
    authority through its fields is listed."""
    from django.apps import apps

    unlisted = []
    for model in apps.get_app_config("improvement").get_models():
        if model.__name__.startswith("Historical") or model in scope.AUTHORITY_PATHS:
            continue
        if any(
            getattr(f, "related_model", None) in scope.AUTHORITY_PATHS for f in model._meta.fields
        ):
            unlisted.append(model.__name__)
    assert unlisted == []
