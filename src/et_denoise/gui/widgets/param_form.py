"""Widgets for a parameters dataclass, built from its field metadata.

One form serves every method: an ``int`` field becomes a spin box, a ``float``
a decimal spin box, a ``bool`` a check box and a field with ``choices`` a
combo box; the label and tooltip come from the field's ``label`` and ``help``.
"""

from __future__ import annotations

import dataclasses
from typing import Any

from PySide6.QtCore import QSignalBlocker, Signal
from PySide6.QtWidgets import (QCheckBox, QComboBox, QDoubleSpinBox, QFormLayout, QSpinBox,
                               QWidget)

from et_denoise.engine.describe import value_text

_INT_LIMIT = 2**31 - 1


def _decimals(*values: float) -> int:
    """Decimals needed to show every one of ``values`` exactly (1 to 6)."""
    needed = [len(f"{abs(value):.6g}".partition(".")[2]) for value in values]
    return min(max(needed + [1]), 6)


class ParamForm(QWidget):
    """An editor for one :class:`~engine.params.MethodParams` subclass.

    Signals
    -------
    edited()
        The user changed a value.
    changed()
        The values changed: edited by the user, or set by :meth:`set_params`.
        Views of the values (a summary line) follow this one.
    """

    edited = Signal()
    changed = Signal()

    def __init__(self, params_type: type, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self._params_type = params_type
        self._fields = dataclasses.fields(params_type)
        self._editors: dict[str, QWidget] = {}
        self.edited.connect(self.changed)
        layout = QFormLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.setFieldGrowthPolicy(QFormLayout.FieldGrowthPolicy.AllNonFixedFieldsGrow)
        for item in self._fields:
            editor = self._build_editor(item)
            editor.setObjectName(f"param_{item.name}")
            editor.setToolTip(item.metadata.get("help", ""))
            self._editors[item.name] = editor
            layout.addRow(item.metadata.get("label", item.name), editor)
            layout.labelForField(editor).setToolTip(item.metadata.get("help", ""))

    def editor(self, name: str) -> QWidget:
        """The widget editing field ``name``."""
        return self._editors[name]

    def values(self) -> dict:
        """The current values, ``{field name: value}`` (not validated)."""
        return {name: self._read(editor, self._field(name)) for name, editor in self._editors.items()}

    def params(self):
        """The current values as the parameters dataclass (raises ParameterError if invalid)."""
        return self._params_type(**self.values())

    def set_params(self, params) -> None:
        """Show ``params``: emits :attr:`changed` once, never :attr:`edited`."""
        for name, editor in self._editors.items():
            with QSignalBlocker(editor):
                self._write(editor, getattr(params, name))
        self.changed.emit()

    # ------------------------------------------------------------ builders
    def _field(self, name: str) -> dataclasses.Field:
        return next(item for item in self._fields if item.name == name)

    def _build_editor(self, item: dataclasses.Field) -> QWidget:
        meta = item.metadata
        kind = type(item.default)
        if kind is bool:
            editor = QCheckBox()
            editor.toggled.connect(self.edited)
        elif meta.get("choices"):
            editor = QComboBox()
            for choice in meta["choices"]:
                editor.addItem(value_text(item, choice), choice)
            editor.currentIndexChanged.connect(self.edited)
        elif kind is int:
            editor = QSpinBox()
            editor.setRange(int(meta.get("minimum") if meta.get("minimum") is not None else -_INT_LIMIT),
                            int(meta.get("maximum") if meta.get("maximum") is not None else _INT_LIMIT))
            editor.setSingleStep(int(meta.get("step") or 1))
            editor.valueChanged.connect(self.edited)
        elif kind is float:
            editor = QDoubleSpinBox()
            step = float(meta.get("step") or 0.1)
            editor.setDecimals(_decimals(step, item.default))
            editor.setRange(float(meta.get("minimum") if meta.get("minimum") is not None else -1e12),
                            float(meta.get("maximum") if meta.get("maximum") is not None else 1e12))
            editor.setSingleStep(step)
            editor.valueChanged.connect(self.edited)
        else:
            raise TypeError(f"no editor for parameter {item.name!r} of type {kind.__name__}")
        if isinstance(editor, (QSpinBox, QDoubleSpinBox)):
            editor.setKeyboardTracking(False)
            editor.setAccelerated(True)
            if meta.get("minimum_text"):
                editor.setSpecialValueText(meta["minimum_text"])
        self._write(editor, item.default)
        return editor

    @staticmethod
    def _read(editor: QWidget, item: dataclasses.Field) -> Any:
        if isinstance(editor, QCheckBox):
            return editor.isChecked()
        if isinstance(editor, QComboBox):
            return editor.currentData()
        return editor.value()

    @staticmethod
    def _write(editor: QWidget, value: Any) -> None:
        if isinstance(editor, QCheckBox):
            editor.setChecked(bool(value))
        elif isinstance(editor, QComboBox):
            index = editor.findData(value)
            editor.setCurrentIndex(max(index, 0))
        else:
            if isinstance(editor, QDoubleSpinBox):  # 0.65 chosen by Auto must not come back as 0.7
                editor.setDecimals(max(editor.decimals(), _decimals(value)))
            editor.setValue(value)
