"""The Smart Rollup protocol as typed state machines (pure, no I/O)."""
