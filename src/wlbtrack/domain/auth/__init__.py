"""API tokens, roles, the guards that enforce them, and the bearer-token middleware."""
