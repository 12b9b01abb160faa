from dataclasses import dataclass
from datetime import datetime, timedelta

from domain.templating import choose_template

T0 = datetime(2026, 1, 1)


@dataclass(frozen=True)
class Candidate:
    label: str
    owner_id: str | None = None
    locale: str = "en"
    is_default: bool = False
    updated_at: datetime = T0


def chosen(candidates, owner_id=None, locale="en"):
    found = choose_template(candidates, owner_id, locale, "en")
    return found.label if found else None


def test_the_owners_template_wins_over_the_tenants():
    candidates = [Candidate("tenant", is_default=True), Candidate("owner", owner_id="jo")]
    assert chosen(candidates, owner_id="jo") == "owner"
    assert chosen(candidates, owner_id="sam") == "tenant"
    assert chosen(candidates) == "tenant"


def test_another_owners_template_is_never_used():
    assert chosen([Candidate("sam's", owner_id="sam")], owner_id="jo") is None


def test_locale_falls_back_to_language_then_tenant_default():
    candidates = [Candidate("en"), Candidate("pt", locale="pt"), Candidate("pt-BR", locale="pt_BR")]
    assert chosen(candidates, locale="pt-BR") == "pt-BR"
    assert chosen(candidates, locale="pt-PT") == "pt"
    assert chosen(candidates, locale="fr") == "en"
    assert chosen(candidates[1:], locale="fr") is None  # the shipped defaults apply


def test_the_owner_group_wins_even_in_a_fallback_locale():
    candidates = [Candidate("tenant pt", locale="pt"), Candidate("owner en", owner_id="jo")]
    assert chosen(candidates, owner_id="jo", locale="pt") == "owner en"


def test_the_default_then_the_newest_wins_within_a_locale():
    newer = T0 + timedelta(days=1)
    assert chosen([Candidate("old"), Candidate("new", updated_at=newer)]) == "new"
    assert (
        chosen([Candidate("default", is_default=True), Candidate("new", updated_at=newer)])
        == "default"
    )
