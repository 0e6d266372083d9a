"""The contract every lane emits and every tool reads: the normalized model, the builder lanes
use to emit it, the ordering rules, the published JSON Schema and TypeScript, the lane protocol
and the error tree. Names no provider."""
