/**
 * Curvature-vector products: the pieces of Pearlmutter's R-operator that are not the executor's
 * loop — the second derivatives of the activations from their outputs ({@link dev.checkprop.hvp.ActivationCurvature}),
 * the loss's Hessian applied to R{a<sup>L</sup>} ({@link dev.checkprop.hvp.LossCurvature}), the
 * memory a state costs in this mode ({@link dev.checkprop.hvp.HvpMemory}), directions as files
 * ({@link dev.checkprop.hvp.DirectionFile}) and vector arithmetic on them ({@link dev.checkprop.hvp.Directions}).
 * The products themselves are {@link dev.checkprop.exec.Executor#hessianVector}, which runs them
 * under any checkpoint plan.
 */
package dev.checkprop.hvp;
