"""Data quality: shared constants and types."""

from collections.abc import Mapping
from typing import Any, Literal, TypeAlias

import numpy as np
import pandas as pd
from numpy.typing import NDArray

PSI_BINS = 10
PSI_EPSILON = 1e-4
SAMPLE_SIZE = 1_000_000
MAX_CATEGORIES = 1_000

Frame: TypeAlias = pd.DataFrame | Mapping[str, Any]
Kind = Literal["empty", "number", "category", "mixed", "other"]
U64 = NDArray[np.uint64]
F64 = NDArray[np.float64]
