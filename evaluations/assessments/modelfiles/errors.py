"""The one error an uploaded model file can raise: refused, with a stable code.

Codes (also the assessment job's `error_code` when a worker refuses the file):

- `model_format`: not ONNX or safetensors (a pickle, a zip or TorchScript archive, text...)
- `model_invalid`: the bytes do not parse (a truncated protobuf), or the graph is inconsistent
- `model_external_data`: a tensor stored outside the file
- `model_op_refused`: an operator outside the allow-list, nested subgraphs included
- `model_too_large`: over the size, node or parameter limits
- `architecture_invalid`: the declarative architecture breaks its rules (unknown layer, ...)
- `weights_mismatch`: safetensors tensors missing, extra or of the wrong shape
- `input_mismatch`: evaluation data whose shape does not fit the model's input
"""


class ModelRefusedError(ValueError):
    """A model file riskreg will not run; `code` is stable, the message names the cause."""

    def __init__(self, code: str, message: str) -> None:
        super().__init__(message)
        self.code = code
        self.message = message
