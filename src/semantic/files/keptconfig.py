"""semantic.yml's object as a kept load holds it (`semantic.files.loadcache`): without
pydantic until a setting that is not a plain value is read.

A kept load used to unpickle semantic.yml's `ProjectFile`, which imports pydantic and the
schema module (about 40 ms of `semantic compile`'s 0.3 s) for a command that reads only
`time_zone`, `dialect` and `audit`. `KeptConfig` holds the pickled object and its plain
settings (a string, a number, a flag or nothing: `dialect`, `time_zone`, `broken_keys`,
`audit` left out...): reading one of those answers from them; reading any other attribute
(a nested setting, `model_dump`...) unpickles the `ProjectFile` once and answers from it.
It compares, prints and pickles as that object does.

>>> from semantic.files.schema import ProjectFile
>>> kept = pickle.loads(pickle.dumps(KeptConfig(ProjectFile(name="shop", dialect="postgres"))))
>>> kept.dialect, kept.loaded()
('postgres', False)
>>> kept.limits.max_rows == ProjectFile(name="shop").limits.max_rows, kept.loaded()
(True, True)
>>> kept == ProjectFile(name="shop", dialect="postgres")
True
"""

from __future__ import annotations

import pickle
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from semantic.files.schema import ProjectFile

#: the types of a setting answered without the object (immutable, no pydantic class)
_PLAIN = (str, int, float, bool, type(None))


class KeptConfig:
    """A `ProjectFile`, unpickled when first needed (see the module's doc)."""

    __slots__ = ("_data", "_plain", "_real")

    def __init__(self, config: ProjectFile) -> None:
        plain = {}
        for name in type(config).model_fields:
            value = getattr(config, name)
            if type(value) in _PLAIN:
                plain[name] = value
        self._set(pickle.dumps(config, protocol=pickle.HIGHEST_PROTOCOL), plain, config)

    def _set(self, data: bytes, plain: dict[str, Any], real: ProjectFile | None) -> None:
        object.__setattr__(self, "_data", data)
        object.__setattr__(self, "_plain", plain)
        object.__setattr__(self, "_real", real)

    @classmethod
    def _kept(cls, data: bytes, plain: dict[str, Any]) -> KeptConfig:
        """The object unpickled from a kept load: nothing of pydantic's loaded yet."""
        kept = cls.__new__(cls)
        kept._set(data, plain, None)
        return kept

    def __reduce__(self) -> tuple[Any, ...]:
        return (KeptConfig._kept, (self._data, self._plain))

    def loaded(self) -> bool:
        """Whether the `ProjectFile` was unpickled (pydantic imported)."""
        return self._real is not None

    def real(self) -> ProjectFile:
        """The `ProjectFile` itself."""
        if self._real is None:
            object.__setattr__(self, "_real", pickle.loads(self._data))  # noqa: S301 - ours
        return self._real  # type: ignore[return-value]

    def __getattr__(self, name: str) -> Any:
        # only called for names that are not slots: the settings of the ProjectFile
        plain = self._plain
        if name in plain:
            return plain[name]
        return getattr(self.real(), name)

    def __setattr__(self, name: str, value: Any) -> None:
        setattr(self.real(), name, value)  # a ProjectFile is frozen: pydantic refuses

    def __eq__(self, other: object) -> bool:
        return self.real() == (other.real() if isinstance(other, KeptConfig) else other)

    def __hash__(self) -> int:
        return hash(self.real())

    def __repr__(self) -> str:
        return repr(self.real())

    def __str__(self) -> str:
        return str(self.real())
