"""Recording: scenario -> wire encoder (`providers/`) -> stub server -> real runtime
(`runtimes/`) -> cassette. Also the cassette format, its replay and the secret scrubber."""
