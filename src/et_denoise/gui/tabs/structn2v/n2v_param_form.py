"""The shared parameter form for :class:`~engine.n2v.config.N2VParams`, with a mask editor for the mask.

Every field gets the usual widget from :class:`~gui.param_form.ParamForm`
except ``mask`` (free text in the dataclass), which is edited by a
:class:`~gui.mask_editor.MaskEditor`.  The editor is taken out of the form's
rows so that the tab can show it in a place of its own, but the form still
reads and writes it: :meth:`params` includes the mask, :meth:`set_params`
shows it and a change of mask emits ``edited`` (by the user) or ``changed``
(:meth:`N2VParamForm.set_mask`).
"""

from __future__ import annotations

import dataclasses

import numpy as np
from PySide6.QtWidgets import QFormLayout, QWidget

from et_denoise.engine.n2v.config import N2VParams
from et_denoise.gui.tabs.structn2v.mask_editor import MaskEditor
from et_denoise.gui.widgets.param_form import ParamForm

MASK_FIELD = "mask"


class N2VParamForm(ParamForm):
    """The N2V parameters; :attr:`mask_editor` is the mask field's editor, to be placed by the caller."""

    def __init__(self, parent: QWidget | None = None) -> None:
        self.mask_editor: MaskEditor | None = None
        super().__init__(N2VParams, parent)
        layout: QFormLayout = self.layout()
        label = layout.takeRow(self.mask_editor).labelItem.widget()
        label.hide()
        label.deleteLater()
        self.mask_editor.setParent(None)
        self.mask_editor.setToolTip("")

    def set_mask(self, mask: np.ndarray | None) -> None:
        """Show ``mask`` (a bool array, or None for plain N2V) in the mask editor; emits ``changed``, not ``edited``."""
        self.mask_editor.set_mask(mask)
        self.changed.emit()

    def _build_editor(self, item: dataclasses.Field) -> QWidget:
        if item.name != MASK_FIELD:
            return super()._build_editor(item)
        self.mask_editor = MaskEditor()
        self.mask_editor.setValue(item.default)
        self.mask_editor.mask_changed.connect(self.edited)
        return self.mask_editor
