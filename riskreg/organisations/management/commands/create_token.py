from typing import Any

from django.core.management.base import BaseCommand, CommandError

from riskreg.organisations.actor import Actor
from riskreg.organisations.models import ServiceAccount
from riskreg.organisations.selectors import membership_get, organization_get
from riskreg.organisations.services import token_create


class Command(BaseCommand):
    help = "Issue an API token for a member or a service account; prints the key once."

    def add_arguments(self, parser: Any) -> None:
        parser.add_argument("--organisation", required=True)
        owner = parser.add_mutually_exclusive_group(required=True)
        owner.add_argument("--user")
        owner.add_argument("--service-account")
        parser.add_argument("--name", default="cli")
        parser.add_argument("--days", type=int, default=90)

    def handle(self, *args: Any, **options: Any) -> None:
        org = organization_get(slug=options["organisation"])
        if org is None:
            raise CommandError(f"no organisation {options['organisation']!r}")
        actor = Actor.system(org.pk)
        membership = account = None
        if options["user"]:
            membership = membership_get(organization_id=org.pk, username=options["user"])
            if membership is None:
                raise CommandError(f"{options['user']!r} is not a member of {org.slug}")
        else:
            account = ServiceAccount.objects.filter(
                organization=org, slug=options["service_account"]
            ).first()
            if account is None:
                raise CommandError(f"no service account {options['service_account']!r}")
        _, key = token_create(
            actor=actor,
            name=options["name"],
            membership=membership,
            service_account=account,
            days=options["days"],
        )
        self.stdout.write(key)
