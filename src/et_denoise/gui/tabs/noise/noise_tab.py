"""The Noise analysis tab: the noise's spatial autocorrelation, turned into a StructN2V mask.

Microscopists usually look at an autocorrelation plot and guess a blind-spot
mask.  This tab measures it (:func:`engine.mask_suggestion.analyse_noise`) on
the source the user picks: a rectangle of background drawn on the slice, the
whole slice, the whole volume, or the residual (original − result) of any
result.  It shows the in-plane autocorrelation as a heat map with the
suggested mask outlined, the X/Y/Z profiles, and the suggestion in words;
"Use this mask" hands the mask to the StructN2V tab through the document.

For a residual the tab also says whether the result removed the structured
noise: a denoiser that removes all the noise leaves a residual correlated
exactly like the noise itself (measured on the raw data of the same slices),
while one that kept the structured part (plain N2V, a mask too short) leaves
a residual whose correlation differs from it.  Below, the mask sweep trains
StructN2V with several mask sizes to compare.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass

import numpy as np
from PySide6.QtCore import QSignalBlocker, Qt
from PySide6.QtWidgets import (QComboBox, QDoubleSpinBox, QFrame, QHBoxLayout, QLabel,
                               QProgressBar, QPushButton, QScrollArea, QVBoxLayout, QWidget)
from superqt.utils import qdebounced

from et_denoise.engine.analysis.autocorr import Autocorrelation, noise_autocorrelation, residual_verdict
from et_denoise.engine.analysis.mask_suggestion import (DEFAULT_THRESHOLD, MaskSuggestion, NoiseAnalysis, analyse_noise, render_mask,
                                   suggest_mask)
from et_denoise.engine.n2v.masks import same_mask
from et_denoise.gui.tabs.noise.autocorr_view import AutocorrView
from et_denoise.gui.jobs.job_runner import LatestJob
from et_denoise.gui.tabs.noise.mask_sweep import MaskSweepPanel
from et_denoise.gui.model import Result
from et_denoise.gui.tabs.noise.region_selector import RegionSelector
from et_denoise.gui.widgets.status_label import set_status, status_label
from et_denoise.gui.tabs.base import Tab, TabContext

#: Wait this long after the last change of source, region or slice before analysing.
ANALYSIS_DELAY_MS = 150
#: Side (pixels) of the view where the region is drawn.
REGION_VIEW_SIZE = 130
#: A residual is analysed on up to this many slices either side of the current one.
RESIDUAL_SLAB_RADIUS = 16


class SourceKind(enum.Enum):
    """What is analysed."""

    REGION = "region"
    SLICE = "slice"
    VOLUME = "volume"
    RESIDUAL = "residual"


@dataclass(frozen=True)
class Source:
    """A choice of the source list: a kind, and for residuals the result."""

    kind: SourceKind
    result: Result | None = None


@dataclass(frozen=True)
class Outcome:
    """A finished analysis and what it was computed on.

    ``reference`` is the raw noise's autocorrelation on the same slices, for residuals only.
    """

    analysis: NoiseAnalysis
    source: Source
    reference: Autocorrelation | None


class NoiseTab(Tab):
    """Source, autocorrelation plots, suggested mask, and the mask sweep."""

    def __init__(self, context: TabContext) -> None:
        super().__init__(context)
        self.document = context.document
        self.outcome: Outcome | None = None
        self.suggestion: MaskSuggestion | None = None
        self._analysis = LatestJob(context.jobs)
        self._stale = True
        self._analyse_soon = qdebounced(self.analyse, timeout=ANALYSIS_DELAY_MS, parent=self)
        self._build_widgets()
        self.document.image_opened.connect(self._on_document_image_opened)
        self.document.slice_changed.connect(self._on_document_slice_changed)
        self.document.blind_spot_mask_changed.connect(lambda _mask: self._update_use_status())
        results = self.document.results
        results.added.connect(self._on_results_added)
        results.removed.connect(lambda _result: self._fill_sources())
        results.changed.connect(lambda _result: self._fill_sources())
        self._on_document_image_opened(self.document)

    # ------------------------------------------------------------ builders
    def _build_widgets(self) -> None:
        self.source_combo = QComboBox()
        self.source_combo.setSizeAdjustPolicy(QComboBox.SizeAdjustPolicy.AdjustToMinimumContentsLengthWithIcon)
        self.source_combo.setMinimumContentsLength(16)
        self.source_combo.setToolTip("What to analyse: background with little signal gives the noise alone; "
                                     "a result's residual (original − result) shows what it removed.")
        self.source_combo.currentIndexChanged.connect(self._on_source_combo_changed)
        source_row = QHBoxLayout()
        source_row.addWidget(QLabel("Source"))
        source_row.addWidget(self.source_combo, 1)
        self.region_selector = RegionSelector()
        self.region_selector.setFixedSize(REGION_VIEW_SIZE, REGION_VIEW_SIZE + 20)
        self.region_selector.region_changed.connect(lambda _region: self._on_input_changed())
        self.threshold = QDoubleSpinBox()
        self.threshold.setRange(0.05, 0.95)
        self.threshold.setSingleStep(0.05)
        self.threshold.setDecimals(2)
        self.threshold.setValue(DEFAULT_THRESHOLD)
        self.threshold.setToolTip("Neighbours whose |ρ| reaches this value are hidden with the blind spot; "
                                  "lower values give larger masks.")
        self.threshold.valueChanged.connect(self._on_threshold_changed)
        self.progress = QProgressBar()
        self.progress.setRange(0, 1000)
        self.progress.setTextVisible(False)
        self.progress.setFixedHeight(6)
        self.progress.hide()
        self.explanation = QLabel("Drag the rectangle over background, or choose another source.")
        self.explanation.setWordWrap(True)
        self.explanation.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.explanation.setAlignment(Qt.AlignmentFlag.AlignTop | Qt.AlignmentFlag.AlignLeft)
        self.use_mask_button = QPushButton("Use this mask")
        self.use_mask_button.setObjectName("primary")
        self.use_mask_button.setMinimumHeight(30)
        self.use_mask_button.setToolTip("Put the suggested mask into the StructN2V tab's mask editor.")
        self.use_mask_button.clicked.connect(self.use_mask)
        threshold_row = QHBoxLayout()
        threshold_row.addWidget(QLabel("Threshold |ρ| ≥"))
        threshold_row.addWidget(self.threshold)
        threshold_row.addStretch(1)
        summary = QVBoxLayout()
        summary.setContentsMargins(0, 0, 0, 0)
        summary.addLayout(threshold_row)
        summary.addWidget(self.explanation, 1)
        summary.addWidget(self.use_mask_button)
        top = QHBoxLayout()
        top.addWidget(self.region_selector, 0, Qt.AlignmentFlag.AlignTop)
        top.addLayout(summary, 1)
        self.verdict = status_label()
        self.source_caption = QLabel(" ")
        self.source_caption.setObjectName("muted")
        self.source_caption.setWordWrap(True)
        self.view = AutocorrView()
        self.sweep = MaskSweepPanel(self.context)

        content = QWidget()
        layout = QVBoxLayout(content)
        layout.setContentsMargins(8, 6, 8, 6)
        layout.addLayout(source_row)
        layout.addLayout(top)
        layout.addWidget(self.verdict)
        layout.addWidget(self.progress)
        layout.addWidget(self.source_caption)
        layout.addWidget(self.view)
        layout.addSpacing(6)
        layout.addWidget(self.sweep)
        layout.addStretch(1)
        self.scroll = QScrollArea()
        self.scroll.setWidget(content)
        self.scroll.setWidgetResizable(True)
        self.scroll.setFrameShape(QFrame.Shape.NoFrame)
        self.scroll.setHorizontalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
        outer = QVBoxLayout(self)
        outer.setContentsMargins(0, 0, 0, 0)
        outer.addWidget(self.scroll)

    # ------------------------------------------------------------ public
    def set_active(self, active: bool) -> None:
        """Analyse when shown if something changed while hidden."""
        super().set_active(active)
        if active and self._stale:
            self.analyse()
        elif not active:
            self._analyse_soon.cancel()

    def shutdown(self) -> None:
        """Stop the timer, the analysis and the sweep."""
        self._analyse_soon.cancel()
        self._analysis.cancel()
        self.sweep.stop()

    def source(self) -> Source | None:
        """The chosen source."""
        return self.source_combo.currentData()

    def select_source(self, kind: SourceKind, result: Result | None = None) -> None:
        """Choose a source (for residuals, of ``result``)."""
        for index in range(self.source_combo.count()):
            source = self.source_combo.itemData(index)
            if source.kind is kind and source.result is result:
                self.source_combo.setCurrentIndex(index)
                return
        raise ValueError(f"no source {kind.value} {result.name if result else ''}")

    def analyse(self) -> None:
        """Compute the autocorrelation of the chosen source now, in the background."""
        self._analyse_soon.cancel()
        source = self.source()
        if not self.document.has_image or source is None:
            return
        self._stale = False
        compute = self._computation(source, self.threshold.value())
        job = self._analysis.submit("Noise analysis", compute, self._on_analysis_succeeded, self._on_analysis_failed)
        job.progressed.connect(lambda fraction: self.progress.setValue(int(fraction * 1000)))
        self.progress.setValue(0)
        self.progress.show()

    def use_mask(self) -> None:
        """Hand the suggested mask to the StructN2V tab (``None`` for plain N2V)."""
        suggestion = self.suggestion
        if suggestion is None:
            return
        self.document.set_blind_spot_mask(None if suggestion.is_plain else suggestion.mask.astype(bool))
        self._update_use_status()

    # ------------------------------------------------------------ helpers
    def _computation(self, source: Source, threshold: float):
        """The job function analysing ``source`` (reads only arrays, never widgets)."""
        document = self.document
        if source.kind is SourceKind.RESIDUAL:
            start = max(document.z - RESIDUAL_SLAB_RADIUS, 0)
            stop = min(document.z + RESIDUAL_SLAB_RADIUS + 1, document.n_slices)
            raw = document.planes()[start:stop]
            denoised = source.result.data if source.result.data.ndim == 3 else source.result.data[np.newaxis]
            denoised = denoised[start:stop]
            if not document.is_volume:
                raw, denoised = raw[0], denoised[0]

            def compute(progress, cancel):
                reference = noise_autocorrelation(raw, progress=lambda f: progress(0.5 * f) if f < 1 else None,
                                                  cancel=cancel)
                analysis = analyse_noise(raw, denoised=denoised, threshold=threshold, cancel=cancel,
                                         progress=lambda f: progress(0.5 + 0.5 * f))
                return Outcome(analysis, source, reference)
            return compute
        if source.kind is SourceKind.SLICE:
            data, region = document.current_slice(), None
        elif source.kind is SourceKind.VOLUME:
            data, region = document.image.data, None
        else:
            data, region = document.image.data, self.region_selector.region()

        def compute(progress, cancel):
            analysis = analyse_noise(data, region=region, threshold=threshold, progress=progress, cancel=cancel)
            return Outcome(analysis, source, None)
        return compute

    def _fill_sources(self) -> None:
        """List the sources for the open image and its results, keeping the choice where possible."""
        current = self.source()
        combo = self.source_combo
        with QSignalBlocker(combo):
            combo.clear()
            if self.document.has_image:
                slices = self.document.n_slices
                on = f"all {slices} slices" if self.document.is_volume else "the image"
                combo.addItem(f"Background region drawn here ({on})", Source(SourceKind.REGION))
                combo.addItem("This slice, whole" if self.document.is_volume else "Whole image",
                              Source(SourceKind.SLICE))
                if self.document.is_volume:
                    combo.addItem("Whole volume", Source(SourceKind.VOLUME))
                for result in self.document.results:
                    combo.addItem(f"Residual of “{result.name}”", Source(SourceKind.RESIDUAL, result))
            index = next((i for i in range(combo.count()) if combo.itemData(i) == current), 0)
            combo.setCurrentIndex(index)
        if self.source() != current:
            self._on_source_combo_changed()

    def _on_input_changed(self) -> None:
        """The data to analyse changed: analyse soon if shown, or when next shown."""
        self._stale = True
        if self.active and self.document.has_image:
            self._analyse_soon()

    def _show_suggestion(self) -> None:
        outcome, suggestion = self.outcome, self.suggestion
        self.view.set_mask(suggestion.mask, suggestion.threshold)
        explanation = suggestion.explanation.replace("|ρ|", "|\u2060ρ\u2060|")  # never break inside |ρ|
        self.explanation.setText(f"<b>Suggested mask:</b> {explanation[0].upper()}{explanation[1:]}.")
        command = (f"--mask {suggestion.spec}" if suggestion.spec
                   else "save the mask as rows of 0/1 in a file for --mask-file")
        self.explanation.setToolTip("The mask (O the blind spot, # hidden with it):"
                                    f"<pre>{render_mask(suggestion.mask)}</pre>Command line: {command}")
        self.use_mask_button.setEnabled(True)
        if outcome.reference is not None:
            matches, text = residual_verdict(outcome.analysis.autocorrelation, outcome.reference)
            set_status(self.verdict, text, error=not matches)
        else:
            set_status(self.verdict, "")
        self.verdict.setVisible(outcome.reference is not None)
        self._update_use_status()

    def _update_use_status(self) -> None:
        """Say on the button whether the StructN2V tab already uses the suggested mask."""
        mask, suggestion = self.document.blind_spot_mask, self.suggestion
        wanted = None if suggestion is None or suggestion.is_plain else suggestion.mask.astype(bool)
        in_use = suggestion is not None and same_mask(mask, wanted)
        self.use_mask_button.setText("✓ Used by StructN2V" if in_use else "Use this mask")

    # ------------------------------------------------------------ handlers
    def _on_document_image_opened(self, document) -> None:
        self._analysis.cancel()
        self.outcome = self.suggestion = None
        self.view.clear()
        self.explanation.setText("")
        set_status(self.verdict, "")
        self.use_mask_button.setEnabled(False)
        self.progress.hide()
        self.source_caption.setText(" ")
        if document.has_image:
            self.region_selector.set_plane(document.current_slice(), propose=True)
        self._fill_sources()
        self._on_input_changed()

    def _on_document_slice_changed(self, _z: int) -> None:
        self.region_selector.set_plane(self.document.current_slice())
        source = self.source()
        if source is not None and source.kind in (SourceKind.SLICE, SourceKind.RESIDUAL):
            self._on_input_changed()

    def _on_results_added(self, result: Result) -> None:
        self._fill_sources()
        if result.method == "n2v":
            self.select_source(SourceKind.RESIDUAL, result)

    def _on_source_combo_changed(self, _index: int = 0) -> None:
        source = self.source()
        self.region_selector.setVisible(source is not None and source.kind is SourceKind.REGION)
        self._on_input_changed()

    def _on_threshold_changed(self, value: float) -> None:
        if self.outcome is not None:
            self.suggestion = suggest_mask(self.outcome.analysis.autocorrelation, threshold=value)
            self._show_suggestion()

    def _on_analysis_succeeded(self, outcome: Outcome) -> None:
        self.progress.hide()
        self.outcome = outcome
        acf = outcome.analysis.autocorrelation
        threshold = self.threshold.value()
        self.suggestion = (outcome.analysis.suggestion if outcome.analysis.suggestion.threshold == threshold
                           else suggest_mask(acf, threshold=threshold))
        name = f"“{outcome.source.result.name}”: " if outcome.source.result is not None else ""
        self.source_caption.setText(f"Autocorrelation of {name}{acf.source}")
        self.view.show_autocorrelation(acf, self.suggestion.mask, threshold, outcome.reference)
        self._show_suggestion()

    def _on_analysis_failed(self, message: str) -> None:
        self.progress.hide()
        set_status(self.verdict, f"Analysis failed: {message}", error=True)
        self.verdict.show()

