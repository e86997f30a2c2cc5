"""The plan catalogue: campaigns, directions, guidelines, initiatives and departments."""
