"""How parameters, choices and durations read for people: one wording for every view and report.

Examples
--------
>>> from et_denoise.engine.filters.median import MedianParams
>>> describe_params(MedianParams(size=5))                          # doctest: +SKIP
'Size 5 · Mode 2-D'
>>> format_seconds(65.2)
'1 min 05 s'
"""

from __future__ import annotations

import dataclasses
import unicodedata
from collections.abc import Sequence
from typing import Any

from et_denoise.engine.params import MethodParams


def choice_text(value: Any) -> str:
    """How a choice reads: ``"2d"`` as ``2-D``, other values as they are.

    Examples
    --------
    >>> choice_text("3d"), choice_text("cross:9")
    ('3-D', 'cross:9')
    """
    text = str(value)
    if len(text) == 2 and text[0].isdigit() and text[1] == "d":
        return f"{text[0]}-D"
    return text


def value_text(item: dataclasses.Field, value: Any) -> str:
    """How the value of parameter field ``item`` reads: on/off, a float as ``%g``, a choice by its label.

    Examples
    --------
    >>> import dataclasses
    >>> from et_denoise.engine.n2v import N2VParams
    >>> fields = {item.name: item for item in dataclasses.fields(N2VParams)}
    >>> value_text(fields["manipulator"], "uniform_withCP"), value_text(fields["mode"], "3d")
    ('random neighbour or itself', '3-D')
    """
    if isinstance(value, bool):
        return "on" if value else "off"
    if isinstance(value, float):
        return f"{value:g}"
    return (item.metadata.get("choice_labels") or {}).get(value) or choice_text(value)


def format_seconds(seconds: float) -> str:
    """``"0.03 s"``, ``"2.4 s"``, ``"1 min 05 s"``: a duration as people read it.

    Examples
    --------
    >>> [format_seconds(s) for s in (0.034, 2.44, 65.2)]
    ['0.03 s', '2.4 s', '1 min 05 s']
    """
    if seconds < 1:
        return f"{seconds:.2f} s"
    if seconds < 60:
        return f"{seconds:.1f} s"
    minutes, rest = divmod(int(round(seconds)), 60)
    return f"{minutes} min {rest:02d} s"


def describe_params(params: MethodParams | None, *, key: int | None = None,
                    shown: dict[str, str] | None = None, names: Sequence[str] | None = None) -> str:
    """A parameters dataclass in its labels' words: ``"Size 5 · Mode 2-D"``.

    Parameters
    ----------
    params : MethodParams or None
        The parameters (``None`` reads as ``""``).
    key : int, optional
        Name only what tells results of one method apart: the first ``key``
        numeric or free-text parameters (on/off switches and choices left out)
        and any other such parameter that differs from its default, each
        label without its parenthesised unit.  By default every parameter.
    shown : dict of str to str, optional
        Texts that replace some parameters' values (a trained model's
        "Epochs 2 of 10"); those parameters are always named.
    names : sequence of str, optional
        Only these parameters, in this order (what Auto chose: ``"Mode 3-D · Strength 1.25"``).

    Examples
    --------
    >>> from et_denoise.engine.filters.diffusion import DiffusionParams
    >>> describe_params(DiffusionParams(iterations=15, kappa=1.5), key=3)     # doctest: +SKIP
    'Iterations 15 · κ 1.5 · Step γ 0.15'
    """
    if params is None:
        return ""
    fields = dataclasses.fields(params)
    if names is not None:
        by_name = {item.name: item for item in fields}
        fields = [by_name[name] for name in names]
    parts = []
    for item in fields:
        value = getattr(params, item.name)
        label = item.metadata.get("label", item.name)
        text = (shown or {}).get(item.name)
        if key is not None:
            if text is None and (isinstance(value, bool) or item.metadata.get("choices")
                                 or (len(parts) >= key and value == item.default)):
                continue
            label = label.split(" (")[0]
        parts.append(f"{label} {value_text(item, value) if text is None else text}")
    return " · ".join(parts)


def plain_text(text: str) -> str:
    """``text`` as one plain line: control characters (newlines, tabs, escapes, bidirectional overrides) removed.

    For names typed or pasted by a user that are shown, saved or written into
    scripts: no name can start a new line of code or reorder what is shown.

    Examples
    --------
    >>> plain_text("Median\\n touch /tmp/x\\x1b[2J")
    'Median touch /tmp/x[2J'
    """
    kept = (" " if char in "\t\n\r\v\f" else char for char in str(text))
    return " ".join("".join(char for char in kept if unicodedata.category(char)[0] != "C").split())
