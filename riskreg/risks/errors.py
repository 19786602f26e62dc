from riskreg.lib.errors import ApplicationError


class RiskTransitionInvalidError(ApplicationError):
    code = "invalid_transition"


class RiskTransitionReservedError(ApplicationError):
    code = "transition_reserved"
