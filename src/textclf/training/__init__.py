"""Fitting a model on a feature set: tf.data inputs, early stopping and DVCLive logs, self-training, and
distribution strategies.
"""
