"""textclf: a reproducible DVC pipeline of TensorFlow text classifiers on movie reviews.

Importing the package pins the Keras flavour for the whole process: TF Hub's
``hub.KerasLayer`` only works with Keras 2 (the ``tf-keras`` package), and
TensorFlow reads ``TF_USE_LEGACY_KERAS`` once, when it is first imported.
"""

import os

os.environ["TF_USE_LEGACY_KERAS"] = "1"
# Whether the user chose TensorFlow's C++ log level; if not, the CLI may quieten it further.
LOG_LEVEL_CHOSEN = "TF_CPP_MIN_LOG_LEVEL" in os.environ
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

__version__ = "0.1.0"
