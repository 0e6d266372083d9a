"""What users' own tests import: hypothesis strategies, the pytest plugin, the syrupy
snapshot extension."""
