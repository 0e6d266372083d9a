"""Reference normalization layer and conformance gate for multi-provider agent runtimes."""
