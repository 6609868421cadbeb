"""Byte-stable model files, so an unchanged stage keeps the same DVC hash.

Both model formats carry something that changes on every save even when the
weights do not: a ``.keras`` zip stamps each member with the time, writes
``date_saved`` into its metadata and, for objects that layers share (a
Bidirectional layer's initializers), their memory addresses (``id()``) as
``shared_object_id`` into its config; a SavedModel's ``fingerprint.pb`` holds a
random uuid. Left alone, every ``dvc repro --force`` would produce "new" models
and a lock file diff with nothing behind it.
"""

from __future__ import annotations

import hashlib
import json
import re
import zipfile
from pathlib import Path

from textclf.core.tf_runtime import keras, keras_traces_skipped, tf

ZIP_EPOCH = (1980, 1, 1, 0, 0, 0)  # the earliest time a zip entry can hold
_UUID4 = re.compile(rb"[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}")


def save_keras_model(model: keras.Model, path: Path) -> None:
    """``model.save(path)`` with the save time taken out of the archive."""
    model.save(path)
    with zipfile.ZipFile(path) as archive:
        members = {name: archive.read(name) for name in archive.namelist()}
    metadata = json.loads(members.get("metadata.json", b"{}"))
    metadata.pop("date_saved", None)
    members["metadata.json"] = json.dumps(metadata, sort_keys=True).encode()
    if "config.json" in members:
        members["config.json"] = json.dumps(_numbered_shared_objects(json.loads(members["config.json"]))).encode()
    with zipfile.ZipFile(path, "w", compression=zipfile.ZIP_DEFLATED) as archive:
        for name in sorted(members):
            entry = zipfile.ZipInfo(name, date_time=ZIP_EPOCH)
            entry.compress_type = zipfile.ZIP_DEFLATED
            entry.external_attr = 0o644 << 16
            archive.writestr(entry, members[name])


def _numbered_shared_objects(config, numbers: dict | None = None):
    """``config`` with each ``shared_object_id`` (a memory address) replaced by 1, 2, ... in order of appearance.

    Keras only compares these ids with each other, to rebuild the sharing on load,
    so numbering them keeps the model the same and makes the file reproducible.
    """
    numbers = {} if numbers is None else numbers
    if isinstance(config, dict):
        return {key: (numbers.setdefault(value, len(numbers) + 1) if key == "shared_object_id"
                      else _numbered_shared_objects(value, numbers)) for key, value in config.items()}
    if isinstance(config, list):
        return [_numbered_shared_objects(item, numbers) for item in config]
    return config


def _content_uuids(data: bytes) -> bytes:
    """Each distinct uuid4 in ``data`` replaced by one derived from ``data`` with its uuids blanked and from its order
    of appearance.

    The replacements have the same length, so every protobuf length prefix stays valid. They differ between graphs
    that differ: Grappler swaps in any loaded function with the same ``api_implements`` name, so two exports whose
    LSTMs shared a name (plain numbers, say) would run each other's functions when loaded side by side.
    """
    graph = hashlib.sha256(_UUID4.sub(b"00000000-0000-4000-8000-000000000000", data)).hexdigest()
    uuids: dict[bytes, bytes] = {}

    def derived(match: re.Match) -> bytes:
        if match.group() not in uuids:
            h = hashlib.sha256(f"{graph}:{len(uuids)}".encode()).hexdigest()
            uuids[match.group()] = f"{h[:8]}-{h[8:12]}-4{h[13:16]}-8{h[17:20]}-{h[20:32]}".encode()
        return uuids[match.group()]

    return _UUID4.sub(derived, data)


def save_saved_model(module: tf.Module, path: Path, signatures=None) -> None:
    """``tf.saved_model.save``, with what differs from save to save made to follow from the content,
    and without the Keras layers' own traces (``keras_traces_skipped``): the signatures are what is served.

    Keras names the function behind each LSTM layer ``lstm_<uuid4>`` (its
    ``api_implements`` attribute, for the CPU/GPU implementation switch), so
    every export of a recurrent model differs; those uuids are replaced by ones
    derived from the graph (``_content_uuids``). The fingerprint, whose checksum covers them, is then made
    again, and its random uuid replaced by one derived from the content.
    """
    from tensorflow.core.protobuf import fingerprint_pb2
    from tensorflow.python.saved_model.pywrap_saved_model import fingerprinting

    with keras_traces_skipped():
        tf.saved_model.save(module, str(path), signatures=signatures)
    graph = Path(path) / "saved_model.pb"
    graph.write_bytes(_content_uuids(graph.read_bytes()))
    fingerprint_path = Path(path) / "fingerprint.pb"
    if not fingerprint_path.is_file():
        return
    fingerprint = fingerprint_pb2.FingerprintDef()
    fingerprint.ParseFromString(fingerprinting.CreateFingerprintDef(str(path)))
    content = (fingerprint.saved_model_checksum, fingerprint.saved_object_graph_hash, fingerprint.checkpoint_hash)
    fingerprint.uuid = str(int(hashlib.sha256(repr(content).encode()).hexdigest()[:32], 16))
    fingerprint_path.write_bytes(fingerprint.SerializeToString(deterministic=True))


def weights_digest(model: keras.Model) -> str:
    """SHA-256 over every weight's name, shape and bytes: equal digests mean equal models."""
    digest = hashlib.sha256()
    for weight in model.weights:
        value = weight.numpy()
        digest.update(f"{weight.name}:{value.dtype}:{value.shape}".encode())
        digest.update(value.tobytes())
    return digest.hexdigest()
