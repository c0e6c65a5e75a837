"""What goes into the packaged app, and what stays out (read by et-denoise.spec and the tests).

PyInstaller follows imports by itself; these lists are the exceptions, each
with its reason.  tests/test_packaging.py checks that no module of the app
imports an excluded module, so a new feature cannot silently break the build.
"""

#: Packages collected whole although no static import reaches all their modules.
COLLECTED_PACKAGES = (
    "et_denoise",       # engine modules are imported inside functions
    "mrcfile",          # not all submodules are reached by static analysis
    "bioimageio.spec",  # imported only inside engine.n2v.export (model export)
)

#: Packages whose data files are read at run time.
DATA_OF_PACKAGES = (
    "bioimageio.spec",  # static/*.json: licences, tag categories and schema the export validates against
    "dask",             # dask.yaml and dask-schema.yaml: its configuration, read when it is imported (volumes in slabs)
)

#: Single modules collected by hand.
HIDDEN_IMPORTS = (
    "frozen_numba_cache",  # packaging/frozen_numba_cache.py: where numba caches kernels in the app
)

#: Modules never imported at run time (or only by optional code paths the app does not take).
EXCLUDED_MODULES = (
    "tkinter", "IPython", "jupyter_client", "ipykernel", "notebook", "pytest", "pytestqt",
    "pandas",            # optional for Keras (try/except ImportError)
    "xarray", "bioimageio.core",  # the export writes with bioimageio.spec alone
    "grpc", "cryptography",       # TensorFlow's distributed runtime and TLS: not used
    "pyqtgraph.opengl", "pyqtgraph.jupyter", "pyqtgraph.examples", "pyqtgraph.console",
    # PySide6 modules the GUI does not use (it uses QtCore, QtGui, QtWidgets, QtSvg,
    # and pyqtgraph imports QtOpenGL, QtOpenGLWidgets and QtTest).
    *(f"PySide6.{module}" for module in (
        "QtQml", "QtQuick", "QtQuickControls2", "QtQuickWidgets", "QtQuickTest", "QtQmlFeatures",
        "QtLabsStyleKit", "QtNetwork", "QtSql", "QtDesigner", "QtHelp", "QtUiTools", "QtXml",
        "QtConcurrent", "QtDBus", "QtPrintSupport", "QtSvgWidgets")),
)

#: Collected files left out of the app (destination paths).
LEFT_OUT_BINARIES = (
    # Qt's GTK 3 theme plugin would load the system's GTK 3 against the bundled GLib and cairo,
    # a known source of crashes in packaged apps; without it Qt draws its own dialogs.
    "PySide6/Qt/plugins/platformthemes/libqgtk3.so",
)

#: matplotlib backends the figures are written with (engine.figure: PNG and PDF).
MATPLOTLIB_BACKENDS = ("Agg", "pdf")

#: Distributions whose metadata is read at run time (About box, model folders, export errors); for a
#: tuple, the first one installed (a GPU build has tensorflow instead of tensorflow-cpu).
METADATA_OF = ("et-denoise", "numpy", "scipy", "scikit-image", "pyqtgraph", ("tensorflow-cpu", "tensorflow"), "n2v",
               "bioimageio.spec", "pydantic")

#: Shared libraries stripped of their symbols (destination path prefixes in the app): about 200 MB
#: less.  Libraries that auditwheel patched (SciPy's and NumPy's OpenBLAS...) break when stripped.
STRIPPED = ("tensorflow/", "llvmlite/", "ml_dtypes/", "libpython")
