"""Exports (a SavedModel that takes raw text) and `textclf predict`.
"""
