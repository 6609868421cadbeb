"""Feature kinds (token sequences, n-gram bags, raw text): vocabulary, encoding and storage as TFRecord shards.
"""
