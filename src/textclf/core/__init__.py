"""The ground every layer stands on: one-line errors, atomic outputs, terminal text, params.yaml's schema and
TensorFlow's start-up. Nothing here knows a dataset or a model.
"""
