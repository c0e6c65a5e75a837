"""Declarative method parameters shared by the engine, the GUI and the command line.

Each method's parameters are a frozen dataclass whose fields are made with
:func:`param`.  The metadata (label, help text, range, choices) is read by the
GUI to build a tab's widgets and by the command line to build its options, so a
parameter is described once.  Construction validates every field.

Examples
--------
>>> from dataclasses import dataclass
>>> @dataclass(frozen=True)
... class BoxParams(MethodParams):
...     size: int = param(3, label="Size", help="Box width in pixels.", minimum=1, maximum=99)
>>> BoxParams(size=5).size
5
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from typing import Any
from collections.abc import Mapping, Sequence

from et_denoise.engine.errors import ParameterError


def param(
    default: Any,
    *,
    label: str,
    help: str,
    minimum: float | None = None,
    maximum: float | None = None,
    choices: Sequence[Any] | None = None,
    choice_labels: Mapping[str, str] | None = None,
    step: float | None = None,
    minimum_text: str | None = None,
    cli: bool = True,
) -> Any:
    """Declare one method parameter.

    Parameters
    ----------
    default : int, float, bool or str
        The default value; its type is the parameter's type.
    label : str
        Short name shown next to the widget.
    help : str
        One or two sentences on what the parameter does to the image: the
        widget's tooltip and the ``--help`` text.
    minimum, maximum : float, optional
        Inclusive range of allowed values (numbers only).
    choices : sequence, optional
        The allowed values (strings only).
    choice_labels : mapping, optional
        Plain words for choices whose values are a library's names (shown by
        the form and in descriptions; the values stay as they are).
    step : float, optional
        Increment for spin boxes.
    minimum_text : str, optional
        What the minimum means, shown in its place (``"auto"`` for a 0 that
        chooses automatically).
    cli : bool
        Whether the command line offers it as an option.
    """
    metadata = dict(label=label, help=help, minimum=minimum, maximum=maximum,
                    choices=tuple(choices) if choices is not None else None,
                    choice_labels=dict(choice_labels) if choice_labels else None, step=step, minimum_text=minimum_text, cli=cli)
    return dataclasses.field(default=default, metadata=metadata)


@dataclass(frozen=True)
class MethodParams:
    """Base class of every method's parameters: validates fields on construction."""

    def __post_init__(self) -> None:
        for field in dataclasses.fields(self):
            _validate_field(field, getattr(self, field.name))
        self.validate()

    def validate(self) -> None:
        """Checks that involve several fields; subclasses override it."""

    def replace(self, **changes: Any) -> MethodParams:
        """A copy with some fields changed (validated again)."""
        return dataclasses.replace(self, **changes)

    def as_dict(self) -> dict:
        """The parameters as a plain ``{name: value}`` dictionary."""
        return dataclasses.asdict(self)


def _validate_field(field: dataclasses.Field, value: Any) -> None:
    meta = field.metadata
    kind = type(field.default)
    name = meta.get("label", field.name)
    if kind is bool:
        if not isinstance(value, bool):
            raise ParameterError(f"{name} must be true or false, got {value!r}")
        return
    if kind in (int, float):
        if isinstance(value, bool) or not isinstance(value, (int, float)):
            raise ParameterError(f"{name} must be a number, got {value!r}")
        if kind is int and int(value) != value:
            raise ParameterError(f"{name} must be a whole number, got {value!r}")
        if value != value:  # NaN
            raise ParameterError(f"{name} must be a number, got NaN")
        if meta.get("minimum") is not None and value < meta["minimum"]:
            raise ParameterError(f"{name} must be at least {meta['minimum']}, got {value}")
        if meta.get("maximum") is not None and value > meta["maximum"]:
            raise ParameterError(f"{name} must be at most {meta['maximum']}, got {value}")
        return
    if meta.get("choices") is not None and value not in meta["choices"]:
        allowed = ", ".join(str(c) for c in meta["choices"])
        raise ParameterError(f"{name} must be one of {allowed}, got {value!r}")
