"""CLI subcommands: each module here exposes `register(subparsers)`; harness.cli discovers them."""
