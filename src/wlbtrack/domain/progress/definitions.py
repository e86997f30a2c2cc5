"""The progress definitions, worded as the contract states them, for the OpenAPI descriptions."""

DEFINITIONS = """\
Definitions (P is the period):

- **Value of an indicator at period P**: its current value for the latest period ≤ P that has one \
(carried forward), or none.
- **Attainment** of an indicator at P: clamp((value − baseline) / (target − baseline), 0, 1). \
Works unchanged for decreasing indicators.
- **Progress of a guideline** at P: the mean attainment of its indicators that have a value at P; \
`null` when none has.
- **Progress of a direction, a campaign and the whole plan** at P: the mean progress of their guidelines \
that are not null; `null` when all are. Each aggregate also gives `guidelines_total` and \
`guidelines_with_data`, so that no reader mistakes "no data" for 0 %. Progress is a fraction from 0 to 1.
- **Status counts** at P: how many current reports for period P (one per guideline and department) \
have each status, over the (guideline, department) pairs in scope.
- **Completeness** at P: `expected` = the number of (guideline, responsible department) pairs in scope; \
`received` = how many of them have a report for P; `rate` = received / expected.
"""

CACHING = """\
Responses carry an `ETag`; send it back in `If-None-Match` to get `304 Not Modified` while nothing \
has changed. Any write changes the tag."""


def describe(what: str, *sections: str) -> str:
    """An operation description: what it returns, then the given sections."""
    return "\n\n".join((what, *sections))
