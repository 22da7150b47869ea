"""Vietnamese sample text for the benchmarks' records, read from `samples.json`.

The records carry real Vietnamese (multi-byte UTF-8, as clients send it) so the measured sizes and
times are honest. It is data, not something the service says, so it sits in a data file beside the
benchmarks rather than in the message catalogue (`verisyntra/messages/`) or in code.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

SAMPLES: dict[str, Any] = json.loads((Path(__file__).resolve().parent / "samples.json").read_text(encoding="utf-8"))
BATCH = SAMPLES["batch"]
DASHBOARD = SAMPLES["dashboard"]
LOAD = SAMPLES["load"]
SCAN = SAMPLES["scan"]
