"""Hostile-input machinery shared by the contract tests and the fuzz entry points.

`contract` states the bad-input contract as one checkable function; `mutations` holds the
hypothesis strategies that damage real shipped inputs; `__main__` is the long-running fuzzer
(`python -m tests.fuzz --help`).
"""
