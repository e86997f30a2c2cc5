"""Response structs filled from rows (or other objects) whose attributes carry the fields' names."""

from __future__ import annotations

from typing import Any, TypeVar

import msgspec

S = TypeVar("S", bound=msgspec.Struct)


# Not msgspec.convert(..., from_attributes=True): that validates every value again and cannot take the
# fields a caller computes.
def from_attributes(cls: type[S], source: object, **given: Any) -> S:
    """A `cls` whose fields are `given`, else `source`'s attribute of the same name."""
    return cls(
        **{name: given[name] if name in given else getattr(source, name) for name in cls.__struct_fields__}
    )
