"""The verifier package from the source tree (verifier/), whether installed or not."""

import sys

from tests.servers import ROOT

sys.path.insert(0, str(ROOT / "verifier"))
