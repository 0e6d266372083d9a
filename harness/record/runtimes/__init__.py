"""Runtime drivers: one module per real agent runtime, installed pinned, run offline."""
