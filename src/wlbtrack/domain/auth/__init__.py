"""API tokens, roles and the guards that enforce them."""
