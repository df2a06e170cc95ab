"""Writes for authorities, themes and teams: the reference data every plan hangs on."""

from __future__ import annotations

from django.db import transaction

from improvement.models import (
    Authority,
    Team,
    Theme,
    User,
)


@transaction.atomic
def authority_upsert(
    *, ons_code: str, name: str, la_code: str = "", region: str = "", authority_type: str = ""
) -> tuple[Authority, bool]:
    authority = Authority.objects.filter(ons_code=ons_code).first()
    created = authority is None
    authority = authority or Authority(ons_code=ons_code)
    fields = {"name": name, "la_code": la_code, "region": region, "authority_type": authority_type}
    changed = created or any(getattr(authority, k) != v for k, v in fields.items())
    if changed:
        for key, value in fields.items():
            setattr(authority, key, value)
        authority.full_clean()
        authority.save()
    return authority, created


@transaction.atomic
def theme_upsert(*, slug: str, name: str, description: str = "") -> tuple[Theme, bool]:
    theme, created = Theme.objects.get_or_create(
        slug=slug, defaults={"name": name, "description": description}
    )
    if created:
        theme.full_clean()
    return theme, created


@transaction.atomic
def team_create(
    *, authority: Authority, name: str, kind: str = Team.Kind.COUNCIL, lead: User | None = None
) -> Team:
    team = Team(authority=authority, name=name, kind=kind, lead=lead)
    team.full_clean()
    team.save()
    return team
