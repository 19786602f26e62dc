from riskreg.lib.errors import ApplicationError


class RiskTransitionInvalidError(ApplicationError):
    code = "invalid_transition"


class RiskTransitionReservedError(ApplicationError):
    code = "transition_reserved"


class AcceptanceSegregationError(ApplicationError):
    code = "segregation_of_duties"


class AcceptanceAboveToleranceError(ApplicationError):
    code = "above_tolerance"


class AcceptanceNeedsPersonError(ApplicationError):
    code = "acceptance_needs_person"


class ResidualScoreRequiredError(ApplicationError):
    code = "residual_score_required"
