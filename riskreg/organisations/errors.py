from rest_framework.exceptions import AuthenticationFailed

from riskreg.lib.errors import ApplicationError


class TokenExpiredError(AuthenticationFailed):
    default_detail = "The API token has expired or was revoked."


class OrganisationRequiredError(ApplicationError):
    code = "organisation_required"


class SlugTakenError(ApplicationError):
    code = "slug_taken"


class LastAdminError(ApplicationError):
    code = "last_admin"


class AlreadyMemberError(ApplicationError):
    code = "conflict"


class TokenRevokedError(ApplicationError):
    code = "conflict"
