/**
 * Kernels: the matrix products and element-wise steps of a dense layer, with explicit outputs and no
 * allocation. {@link dev.checkprop.kernel.DenseKernels} states the bit contract that the Vector API
 * and scalar implementations share; {@link dev.checkprop.kernel.Kernels} picks one per JVM;
 * {@link dev.checkprop.kernel.MathF} gives JVM-independent exp, tanh and sigmoid.
 */
package dev.checkprop.kernel;
