/**
 * The network and its layers: {@link dev.checkprop.nn.Network} (a chain of
 * {@link dev.checkprop.nn.DenseLayer}s holding W<sup>l</sup> and b<sup>l</sup>),
 * {@link dev.checkprop.nn.Activation}, {@link dev.checkprop.nn.Loss}, {@link dev.checkprop.nn.Batch}
 * and {@link dev.checkprop.nn.Gradients}. Layers hold parameters only, never activations: those
 * belong to the executor, which is what lets one layer serve every checkpoint plan.
 */
package dev.checkprop.nn;
