"""Provider wire modules: one per provider API (SSE encoder, stub responder, request checks)."""
