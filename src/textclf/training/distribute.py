"""Where the zoo's models train (one device, every local GPU, or a cluster of machines) and in which float precision.

Both are TensorFlow's own engines, chosen by the ``training`` block of params.yaml:
``tf.distribute.MirroredStrategy`` for the GPUs of one machine and
``tf.distribute.MultiWorkerMirroredStrategy`` for several machines, whose cluster
comes from ``TF_CONFIG`` as on Kubernetes, Vertex AI or any TensorFlow cluster.
Every worker runs the same stage; only the chief writes its outputs, so DVC sees
one set.
"""

from __future__ import annotations

import json
import os

from textclf.core import schema
from textclf.core.errors import TextclfError
from textclf.core.tf_runtime import keras, tf


def checked_settings(params: dict) -> dict:
    return schema.block_of(params, "training", schema.Training)


def check_supported(name: str, features: str, settings: dict) -> None:
    """Refuse, before any work, a model that cannot train under the chosen strategy."""
    if settings["distribution"] != "default" and features == "ngrams":
        raise TextclfError(f"model '{name}' reads sparse n-gram bags, which the {settings['distribution']} strategy "
                           "cannot split across replicas: train it with training.distribution: default")


def start(settings: dict) -> tf.distribute.Strategy:
    """Set the precision policy and create the strategy.

    Call it first: MultiWorkerMirroredStrategy has to start before TensorFlow
    runs any op, since it sets up the collective ops that join the workers.
    """
    keras.mixed_precision.set_global_policy(settings["precision"])
    distribution = settings["distribution"]
    if distribution == "default":
        return tf.distribute.get_strategy()
    if distribution == "mirrored":
        return tf.distribute.MirroredStrategy()
    cluster = _tf_config()
    workers = len(cluster.get("cluster", {}).get("worker", [])) + len(cluster.get("cluster", {}).get("chief", []))
    print(f"multi_worker: {cluster['task']['type']} {cluster['task'].get('index', 0)} of {workers}")
    return tf.distribute.MultiWorkerMirroredStrategy()


def _tf_config() -> dict:
    raw = os.environ.get("TF_CONFIG")
    if not raw:
        raise TextclfError("training.distribution is multi_worker, but TF_CONFIG is not set "
                           "(it names the cluster's workers and this process's place among them)")
    try:
        config = json.loads(raw)
        task, cluster = config["task"], config["cluster"]
        if task["type"] not in cluster or not isinstance(cluster[task["type"]], list):
            raise KeyError(task["type"])
    except (ValueError, KeyError, TypeError) as error:
        raise TextclfError(f"TF_CONFIG is not a cluster spec with this task in it ({type(error).__name__}: {error}); "
                           'expected {"cluster": {"worker": ["host:port", ...]}, "task": {"type": "worker", "index": 0}}') from None
    return config


def is_chief(strategy: tf.distribute.Strategy) -> bool:
    """True for the process that writes outputs: the only one, the `chief` task, or worker 0 of a chief-less cluster."""
    resolver = getattr(strategy, "cluster_resolver", None)
    cluster = resolver.cluster_spec().as_dict() if resolver is not None else {}
    if not cluster:
        return True
    if resolver.task_type == "chief":
        return True
    return resolver.task_type == "worker" and resolver.task_id == 0 and "chief" not in cluster


def describe(settings: dict, strategy: tf.distribute.Strategy) -> str:
    replicas = strategy.num_replicas_in_sync
    return f"{settings['distribution']} strategy ({replicas} replica{'s' if replicas != 1 else ''}), {settings['precision']}"
