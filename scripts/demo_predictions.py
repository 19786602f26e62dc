"""Write fixtures/demo/credit-predictions.csv: the demo's predictions of credit scoring 4.3.0.

Run once, and again only to change the demo on purpose (the CSV is committed as data):

    .venv/bin/python scripts/demo_predictions.py

Seeded, so a rerun writes the same bytes. What the rows tell:

- label 1 means the applicant repaid; score is the model's probability of that, and
  prediction is score >= 0.5 (recommend approval);
- the model is somewhat over-confident (scores spread wider than the true odds);
- applicants aged 18-24 are scored lower than equally creditworthy older applicants, and
  women a little lower than men: the "slightly unfair" behaviour the fairness evidence
  should find: some fifteen points of true positive rate for the youngest band;
- a few regions are missing, and 20 applicants of the train split appear again in the
  test split, for the data-quality evidence to report.
"""

import csv
from pathlib import Path

import numpy as np
from numpy.typing import NDArray

ROWS = 4000
LEAKED = 20
SEED = 4300
OUT = Path(__file__).resolve().parents[1] / "fixtures" / "demo" / "credit-predictions.csv"

AGE_BANDS = ["18-24", "25-39", "40-64", "65+"]
AGE_SHARES = [0.11, 0.38, 0.40, 0.11]
# How creditworthy each band truly is (log-odds of repaying), and how the model misjudges it.
AGE_TRUTH = {"18-24": 0.35, "25-39": 0.9, "40-64": 1.2, "65+": 0.8}
AGE_BIAS = {"18-24": -0.15, "25-39": 0.0, "40-64": 0.1, "65+": -0.1}
SEX_BIAS = {"female": -0.15, "male": 0.05}
REGIONS = ["north", "south", "east", "west"]
REGION_SHARES = [0.22, 0.31, 0.27, 0.20]


def _sigmoid(x: NDArray[np.float64]) -> NDArray[np.float64]:
    return 1.0 / (1.0 + np.exp(-x))


def rows(rng: np.random.Generator) -> list[list[str]]:
    """The applicants, in applicant order, then the leaked duplicates."""
    sex = rng.choice(["female", "male"], size=ROWS, p=[0.48, 0.52])
    age = rng.choice(AGE_BANDS, size=ROWS, p=AGE_SHARES)
    region = rng.choice(REGIONS, size=ROWS, p=REGION_SHARES)
    split = rng.choice(["train", "test"], size=ROWS, p=[0.6, 0.4])
    truth = np.array([AGE_TRUTH[a] for a in age]) + rng.normal(0.0, 1.8, size=ROWS)
    label = (rng.random(ROWS) < _sigmoid(truth)).astype(int)
    bias = np.array([AGE_BIAS[a] + SEX_BIAS[s] for a, s in zip(age, sex, strict=True)])
    score = _sigmoid(1.3 * truth + bias + rng.normal(0.0, 0.35, size=ROWS))
    prediction = (score >= 0.5).astype(int)
    missing_region = rng.random(ROWS) < 0.006
    out = []
    for i in range(ROWS):
        out.append(
            [
                f"A{100001 + i}",
                str(label[i]),
                str(prediction[i]),
                f"{score[i]:.4f}",
                str(sex[i]),
                str(age[i]),
                "" if missing_region[i] else str(region[i]),
                str(split[i]),
            ]
        )
    train = [r for r in out if r[-1] == "train"]
    leaked = [[*train[int(i)][:-1], "test"] for i in rng.choice(len(train), LEAKED, replace=False)]
    return out + leaked


def main() -> None:
    OUT.parent.mkdir(parents=True, exist_ok=True)
    header = ["applicant_id", "label", "prediction", "score", "sex", "age_band", "region", "split"]
    with OUT.open("w", newline="", encoding="utf-8") as stream:
        writer = csv.writer(stream, lineterminator="\n")
        writer.writerow(header)
        writer.writerows(rows(np.random.default_rng(SEED)))
    print(f"wrote {OUT}")


if __name__ == "__main__":
    main()
