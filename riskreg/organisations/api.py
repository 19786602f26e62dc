"""Who am I, and the organisation's administration: tokens, members, service accounts."""

from typing import Any

from drf_spectacular.utils import extend_schema, extend_schema_field
from rest_framework import serializers, status
from rest_framework.request import Request
from rest_framework.response import Response

from riskreg.inventory import selectors as inventory
from riskreg.lib.api import paginated, paginated_response
from riskreg.lib.schema import ErrorEnvelopeSerializer
from riskreg.organisations import selectors, services
from riskreg.organisations.apiview import OrgApiView
from riskreg.organisations.models import ApiToken, Membership, ServiceAccount
from riskreg.organisations.roles import Role
from riskreg.organisations.services import DEFAULT_TOKEN_DAYS, MAX_TOKEN_DAYS


class MeOutputSerializer(serializers.Serializer[Any]):
    organisation = serializers.CharField()
    role = serializers.CharField()
    actor = serializers.CharField()
    kind = serializers.CharField()


class MeApi(OrgApiView):
    actions = {"GET": "me.read"}

    @extend_schema(operation_id="me_retrieve", responses=MeOutputSerializer)
    def get(self, request: Request) -> Response:
        actor = self.actor
        org = selectors.organization_by_id(organization_id=actor.organization_id)
        data = {
            "organisation": org.slug,
            "role": actor.role,
            "actor": actor.label,
            "kind": actor.kind,
        }
        return Response(MeOutputSerializer(data).data)


# --- tokens ----------------------------------------------------------------------------


class TokenOutputSerializer(serializers.Serializer[ApiToken]):
    prefix = serializers.CharField()
    name = serializers.CharField()
    owner = serializers.SerializerMethodField()
    created_at = serializers.DateTimeField()
    expires_at = serializers.DateTimeField()
    revoked_at = serializers.DateTimeField(allow_null=True)

    def get_owner(self, token: ApiToken) -> str:
        if token.membership is not None:
            return token.membership.user.get_username()
        return f"service:{token.service_account.slug}"  # type: ignore[union-attr]


class TokenCreatedOutputSerializer(TokenOutputSerializer):
    key = serializers.CharField(help_text="The bearer key, shown this once and never again.")


class TokenCreateInputSerializer(serializers.Serializer[Any]):
    name = serializers.CharField(max_length=200)
    days = serializers.IntegerField(
        min_value=1, max_value=MAX_TOKEN_DAYS, default=DEFAULT_TOKEN_DAYS
    )
    service_account = serializers.SlugField(max_length=64, required=False, allow_null=True)


class TokenRevokeInputSerializer(serializers.Serializer[Any]):
    reason = serializers.CharField(max_length=500, required=False, allow_blank=True)


class TokensApi(OrgApiView):
    actions = {"GET": "token.read", "POST": "token.create"}

    @extend_schema(operation_id="tokens_list", responses=paginated(TokenOutputSerializer))
    def get(self, request: Request) -> Response:
        rows = selectors.token_list(actor=self.actor)
        return paginated_response(request, self, rows, TokenOutputSerializer)

    @extend_schema(
        operation_id="tokens_create",
        request=TokenCreateInputSerializer,
        responses={201: TokenCreatedOutputSerializer},
    )
    def post(self, request: Request) -> Response:
        data = TokenCreateInputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        slug = data.validated_data.get("service_account")
        owner: dict[str, Any] = {"membership": selectors.membership_of_actor(actor=self.actor)}
        if slug:
            account = selectors.service_account_by_slug(
                actor=self.actor, slug=slug, field="service_account"
            )
            owner = {"service_account": account}
        token, key = services.token_create(
            actor=self.actor,
            name=data.validated_data["name"],
            days=data.validated_data["days"],
            **owner,
        )
        body = {**TokenOutputSerializer(token).data, "key": key}
        return Response(body, status=status.HTTP_201_CREATED)


class TokenRevokeApi(OrgApiView):
    actions = {"POST": "token.revoke"}

    @extend_schema(
        operation_id="tokens_revoke",
        request=TokenRevokeInputSerializer,
        responses=TokenOutputSerializer,
    )
    def post(self, request: Request, prefix: str) -> Response:
        data = TokenRevokeInputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        token = selectors.token_get(actor=self.actor, prefix=prefix)
        token = services.token_revoke(actor=self.actor, token=token, **data.validated_data)
        return Response(TokenOutputSerializer(token).data)


# --- members ---------------------------------------------------------------------------


class MemberOutputSerializer(serializers.Serializer[Membership]):
    username = serializers.CharField(source="user.username")
    email = serializers.CharField(source="user.email")
    role = serializers.ChoiceField(choices=Role.choices)
    created_at = serializers.DateTimeField()


USERNAME = r"^[\w.@+-]+\Z"


class MemberCreateInputSerializer(serializers.Serializer[Any]):
    username = serializers.RegexField(USERNAME, max_length=150)
    role = serializers.ChoiceField(choices=Role.choices)
    email = serializers.EmailField(required=False, allow_blank=True, max_length=254)


class MemberUpdateInputSerializer(serializers.Serializer[Any]):
    role = serializers.ChoiceField(choices=Role.choices)


class MembersApi(OrgApiView):
    actions = {"GET": "member.read", "POST": "member.create"}

    @extend_schema(operation_id="members_list", responses=paginated(MemberOutputSerializer))
    def get(self, request: Request) -> Response:
        rows = selectors.member_list(actor=self.actor)
        return paginated_response(request, self, rows, MemberOutputSerializer)

    @extend_schema(
        operation_id="members_create",
        request=MemberCreateInputSerializer,
        responses={201: MemberOutputSerializer},
    )
    def post(self, request: Request) -> Response:
        data = MemberCreateInputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        fields = data.validated_data
        member = services.membership_add(
            actor=self.actor,
            username=fields["username"],
            role=Role(fields["role"]),
            email=fields.get("email", ""),
        )
        return Response(MemberOutputSerializer(member).data, status=status.HTTP_201_CREATED)


class MemberDetailApi(OrgApiView):
    actions = {"PATCH": "member.update"}

    @extend_schema(
        operation_id="members_update",
        request=MemberUpdateInputSerializer,
        responses={200: MemberOutputSerializer, 409: ErrorEnvelopeSerializer},
    )
    def patch(self, request: Request, username: str) -> Response:
        data = MemberUpdateInputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        member = selectors.member_get(actor=self.actor, username=username)
        role = Role(data.validated_data["role"])
        member = services.membership_change_role(actor=self.actor, membership=member, role=role)
        return Response(MemberOutputSerializer(member).data)


# --- service accounts ------------------------------------------------------------------


class ServiceAccountOutputSerializer(serializers.Serializer[ServiceAccount]):
    name = serializers.CharField()
    slug = serializers.CharField()
    role = serializers.ChoiceField(choices=Role.choices)
    systems = serializers.SerializerMethodField()
    created_at = serializers.DateTimeField()

    @extend_schema_field(serializers.ListField(child=serializers.CharField()))
    def get_systems(self, account: ServiceAccount) -> list[str]:
        return sorted(s.slug for s in account.systems.all())


class ServiceAccountCreateInputSerializer(serializers.Serializer[Any]):
    name = serializers.CharField(max_length=200)
    slug = serializers.SlugField(max_length=64)
    role = serializers.ChoiceField(choices=Role.choices)
    systems = serializers.ListField(
        child=serializers.SlugField(max_length=64), required=False, max_length=200
    )


class ServiceAccountsApi(OrgApiView):
    actions = {"GET": "service_account.read", "POST": "service_account.create"}

    @extend_schema(
        operation_id="service_accounts_list", responses=paginated(ServiceAccountOutputSerializer)
    )
    def get(self, request: Request) -> Response:
        rows = selectors.service_account_list(actor=self.actor)
        return paginated_response(request, self, rows, ServiceAccountOutputSerializer)

    @extend_schema(
        operation_id="service_accounts_create",
        request=ServiceAccountCreateInputSerializer,
        responses={201: ServiceAccountOutputSerializer},
    )
    def post(self, request: Request) -> Response:
        data = ServiceAccountCreateInputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        fields = dict(data.validated_data)
        slugs = fields.pop("systems", [])
        systems = inventory.systems_by_slugs(actor=self.actor, slugs=slugs, field="systems")
        account = services.service_account_create(
            actor=self.actor,
            role=Role(fields.pop("role")),
            system_ids=[s.pk for s in systems],
            **fields,
        )
        account = selectors.service_account_get(actor=self.actor, slug=account.slug)
        return Response(
            ServiceAccountOutputSerializer(account).data, status=status.HTTP_201_CREATED
        )
