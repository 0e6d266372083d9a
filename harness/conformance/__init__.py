"""Conformance: a normalized log held to its scenario (outline), to its golden and to the other
lanes (equivalence under the divergence ledger), the capability check, the gate and its report."""
