"""A copy of a trained Keras network for prediction, with batch normalisation folded into the convolutions.

At inference a batch normalisation is an affine map per channel,
``gamma * (x - mean) / sqrt(var + eps) + beta``; folded into the kernel and
bias of the convolution that feeds it, it costs nothing, and TensorFlow can
then fuse each convolution with its bias and activation (Ioffe & Szegedy 2015;
Jacob et al. 2018, section 3.2).  This module imports TensorFlow: call it only
on the network thread.
"""

from __future__ import annotations

import numpy as np


def fold_batch_norms(network):
    """Return a copy of ``network`` that predicts the same without its batch-normalisation layers.

    Every ``BatchNormalization`` fed by a convolution with a bias becomes an
    identity and its affine map moves into that convolution's weights.

    Parameters
    ----------
    network : keras.Model
        A functional Keras model (n2v's U-Net).

    Returns
    -------
    keras.Model or None
        The folded copy, or ``None`` when a batch normalisation does not follow
        a biased convolution directly (the caller keeps ``network``).

    References
    ----------
    .. [1] S. Ioffe and C. Szegedy, "Batch normalization: accelerating deep network training by reducing
       internal covariate shift", ICML 2015.
    .. [2] B. Jacob et al., "Quantization and training of neural networks for efficient integer-arithmetic-only
       inference", CVPR 2018.
    """
    import tensorflow as tf

    layers = tf.keras.layers
    feeding = {}
    for layer in network.layers:
        if isinstance(layer, layers.BatchNormalization):
            source = layer.inbound_nodes[0].inbound_layers
            if not isinstance(source, layers.Conv2D | layers.Conv3D) or not source.use_bias:
                return None
            feeding[source.name] = layer

    def clone(layer):
        if isinstance(layer, layers.BatchNormalization):
            return layers.Activation("linear", name=layer.name)
        if not layer.weights:  # stateless layers are shared (a Lambda rebuilt from its config needs unsafe loading)
            return layer
        # The weights are copied below: initialise with zeros, which draws no random seed (Keras 2.15
        # draws one with random.randint(1, 1e9), a DeprecationWarning on Python 3.11).
        config = {key: "zeros" if key.endswith("_initializer") else value for key, value in layer.get_config().items()}
        return layer.__class__.from_config(config)

    folded = tf.keras.models.clone_model(network, clone_function=clone)
    for layer in network.layers:
        if isinstance(layer, layers.BatchNormalization) or not layer.weights:
            continue
        weights = layer.get_weights()
        if layer.name in feeding:
            weights = _folded(weights, feeding[layer.name])
        folded.get_layer(layer.name).set_weights(weights)
    return folded


def _folded(conv_weights: list[np.ndarray], norm) -> list[np.ndarray]:
    kernel, bias = conv_weights
    mean, variance = norm.moving_mean.numpy(), norm.moving_variance.numpy()
    gamma = norm.gamma.numpy() if norm.scale else np.ones_like(mean)
    beta = norm.beta.numpy() if norm.center else np.zeros_like(mean)
    scale = gamma / np.sqrt(variance + norm.epsilon)
    return [kernel * scale, (bias - mean) * scale + beta]
