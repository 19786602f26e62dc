"""What the web process checks of an uploaded model before it queues a job.

Everything a refusal needs that can be seen without running the model: the format by
content, the ONNX graph's rules (size, external data, operators, the checker; the graph is
parsed, never run), the architecture's rules and the weights' names, shapes and types. What
only running shows (an evaluation file the graph cannot take, a Reshape that does not fit)
fails the job in the worker instead, with the same codes.
"""

from dataclasses import dataclass

from evaluations.assessments.modelfiles.errors import ModelRefusedError
from evaluations.assessments.modelfiles.onnx_check import (
    LIMITS,
    Limits,
    check_onnx,
    graph_input,
    onnx_input_shape,
)
from evaluations.assessments.modelfiles.sniff import Format, sniff


@dataclass(frozen=True)
class ModelSummary:
    """An uploaded model as far as the web process reads it."""

    format: Format
    input_shape: tuple[int, ...]


def inspect_model(
    data: bytes, *, architecture: bytes | None = None, limits: Limits = LIMITS
) -> ModelSummary:
    """Check an uploaded model without building or running it.

    Raises:
        ModelRefusedError: with the code `load_model` would refuse the file with.
    """
    if len(data) > limits.max_bytes:
        raise ModelRefusedError(
            "model_too_large",
            f"The model file has {len(data):,} bytes; the limit is {limits.max_bytes:,}.",
        )
    if sniff(data) == "onnx":
        if architecture is not None:
            raise ModelRefusedError(
                "architecture_invalid",
                "An ONNX file describes its own graph: send an architecture only with "
                "safetensors weights.",
            )
        _, shape = onnx_input_shape(graph_input(check_onnx(data, limits=limits)))
        return ModelSummary(format="onnx", input_shape=shape)
    if architecture is None:
        raise ModelRefusedError(
            "architecture_invalid",
            "safetensors weights need an architecture: upload its JSON description too.",
        )
    from evaluations.assessments.modelfiles.architecture import (
        check_state,
        parse_architecture,
        plan_network,
        read_weights,
    )

    network = plan_network(parse_architecture(architecture))
    check_state(read_weights(data), network)
    return ModelSummary(format="safetensors", input_shape=network.input_shape)
