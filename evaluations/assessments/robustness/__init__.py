"""Robustness of a classifier: accuracy under adversarial attacks and input corruptions.

`robustness_metrics` gives the `metrics` object of a robustness evidence document: the
number of examples, the clean accuracy (with Wilson's 95% interval) and one curve per
perturbation, each point with::

    accuracy           = #{i : f(x'ᵢ) = yᵢ} / n
    decision_flip_rate = #{i : f(x'ᵢ) ≠ f(xᵢ)} / n

where f(x) is the predicted class and x' the perturbed input.

Models
------
A model is a `Classifier`: `predict(x)` returns scores of shape (n, k) and `module` is a
differentiable float32 torch module returning the same scores, or None. The prediction
is the argmax of the scores (the first column on ties). A single column (n, 1), or a
vector (n,), is the logit of class 1 of a binary model: the prediction is 1 when the
score is > 0, else 0. Labels must lie in 0..k-1 (0..1 for a single logit). When the model
has a module, every prediction (clean, attacked, corrupted) goes through it, on the
device, so all of them come from one function; otherwise through `predict`.

Attacks (models with a module only)
-----------------------------------
Untargeted, on the summed loss L: cross-entropy of the logits, or binary cross-entropy
with logits for a single column. With the gradient g = ∇ₓL(f(x), y), zero on immutable
features, and clip() to the input bounds when they are given::

    FGSM L∞:  x' = clip(x + ε·sign(g))
    FGSM L2:  x' = clip(x + ε·g / ‖g‖₂)               (per example; a zero g leaves x)
    PGD:      x⁰ = x (or a random start), then `pgd_steps` times
              xᵗ⁺¹ = clip(x + Π_ε(xᵗ + alpha·s(∇L(xᵗ)) - x))

with s the FGSM step direction of the norm (sign, or g/‖g‖₂) and Π_ε the projection onto
the ε-ball: clamping each coordinate to [-ε, ε] (L∞), or scaling δ by ε/‖δ‖₂ when ‖δ‖₂ > ε
(L2). alpha is `pgd_step_size`, by default 2.5·ε/steps (Madry et al. 2018). These are the
updates of torchattacks' FGSM, PGD and PGDL2 with random_start=False (torchattacks
averages the loss over the batch and adds 1e-10 to ‖g‖₂, which change the results only by
rounding). With `pgd_random_start`, PGD starts from x plus a uniform point of the L∞ box,
or for L2 a uniform direction at a radius uniform in [0, ε]; the draws come from a torch
generator seeded with `seed` for each (norm, budget), so a curve point does not depend on
the other budgets. A gradient-free model gets no attack curves (the attacks need
gradients); its document holds only the corruption curves.

Budgets are listed in ascending order without repeats; a budget of 0 is measured like any
other (its accuracy is the clean accuracy) and is not added unless asked for.

Corruptions
-----------
`corruptions.gaussian_noise` (severity s: the noise's standard deviation in units of each
feature's standard deviation over x) and `corruptions.feature_dropout` (severity p: the
probability that a feature is replaced by its mean over x), each drawn once from
numpy.random.default_rng((seed, stream)) and reused at every severity.

Constraints
-----------
Immutable features are indices into an example's flattened features; no attack or
corruption ever changes them. With `input_bounds` (low, high), x must lie inside them and
every perturbed input is clipped to them.

Device and determinism
----------------------
The module runs on `device`, by default cuda when torch sees a GPU, else cpu, in batches
of `batch_size`; during the assessment it is in eval mode with its parameters frozen (no
parameter gradients accumulate), and its device, modes and requires_grad flags are
restored afterwards. The same inputs and seed give the same document on one device (on a
GPU as far as its kernels are deterministic). Clean predictions are computed once.

References
----------
Goodfellow IJ, Shlens J, Szegedy C (2015). Explaining and harnessing adversarial
    examples. ICLR. (FGSM)
Madry A, Makelov A, Schmidt L, Tsipras D, Vladu A (2018). Towards deep learning models
    resistant to adversarial attacks. ICLR. (PGD)
Hendrycks D, Dietterich T (2019). Benchmarking neural network robustness to common
    corruptions and perturbations. ICLR. (corruption curves)
"""

from evaluations.assessments.robustness.metrics import robustness_metrics
from evaluations.assessments.robustness.models import Classifier, TorchClassifier

__all__ = ["Classifier", "TorchClassifier", "robustness_metrics"]
