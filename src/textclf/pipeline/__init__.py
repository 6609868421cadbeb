"""The pipeline's layout (which params.yaml block becomes which DVC stages and files) and the fan-out of a
stage group over processes.
"""
