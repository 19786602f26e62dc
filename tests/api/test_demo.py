"""The demo organisation: complete, written through services, and idempotent."""

import pytest

from riskreg.audit.models import AuditEvent
from riskreg.audit.services import audit_verify
from riskreg.inventory.models import AISystem, ModelVersion
from riskreg.organisations.models import Membership, Organization
from riskreg.risks.models import Risk
from riskreg.web.demo import seed_demo

pytestmark = pytest.mark.django_db


def test_seeding_twice_changes_nothing_the_second_time() -> None:
    seed_demo()
    events = AuditEvent.objects.count()
    seed_demo()
    assert AuditEvent.objects.count() == events
    for org in Organization.objects.all():
        assert audit_verify(organization=org).ok


def test_demo_has_the_four_personas_in_both_organisations() -> None:
    seed_demo()
    for slug in ("demo", "northwind"):
        roles = dict(
            Membership.objects.filter(organization__slug=slug).values_list("user__username", "role")
        )
        assert roles == {
            "admin": "admin",
            "officer": "compliance_officer",
            "engineer": "engineer",
            "auditor": "auditor",
        }


def test_demo_systems_cover_tabular_edge_and_generative() -> None:
    seed_demo()
    systems = {s.slug: s for s in AISystem.objects.filter(organization__slug="demo")}
    assert set(systems) == {"credit-scoring", "shelf-vision", "support-assistant"}
    assert systems["shelf-vision"].deployment_context == "edge"
    assert systems["support-assistant"].is_generative
    edge = ModelVersion.objects.get(system=systems["shelf-vision"], version="2.0-int8")
    assert edge.parent is not None
    assert edge.parent.version == "2.0"
    statuses = set(Risk.objects.filter(organization__slug="demo").values_list("status", flat=True))
    assert statuses == {"proposed", "open", "treating"}
