"""The header names the signed-in person's authority, not a fixed setting."""

import pytest
from django.test import override_settings
from django.urls import reverse

from tests.factories import AuthorityFactory, OwnerFactory, UserFactory

pytestmark = pytest.mark.django_db


def header(response) -> str:
    page = response.content.decode()
    start = page.index('class="app-header__council">') + len('class="app-header__council">')
    return page[start : page.index("</span>", start)]


@override_settings(COUNCIL_NAME="Operator Council")
def test_each_person_sees_their_own_authority(client):
    for name in ("Northshire Council", "Southshire Council"):
        person = OwnerFactory(authority=AuthorityFactory(name=name))
        client.force_login(person)
        assert header(client.get(reverse("improvement:my-actions"))) == name


@override_settings(COUNCIL_NAME="Operator Council")
def test_signed_out_and_national_pages_name_the_operator(client):
    assert header(client.get(reverse("login"))) == "Operator Council"
    client.force_login(UserFactory(authority=None))
    assert header(client.get(reverse("improvement:my-actions"))) == "Operator Council"


def test_a_person_moved_to_another_authority_sees_the_new_name(client):
    person = OwnerFactory(authority=AuthorityFactory(name="Northshire Council"))
    client.force_login(person)
    client.get(reverse("improvement:my-actions"))
    person.authority = AuthorityFactory(name="Westshire Council")
    person.save()
    assert header(client.get(reverse("improvement:my-actions"))) == "Westshire Council"
