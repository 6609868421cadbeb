"""Model architectures: their params (TensorFlow-free), the Keras builders, TF Hub modules, ensembles, and
byte-stable saving.
"""
