"""Lanes: one module per provider surface, each a pure streaming `normalize` into the model."""
