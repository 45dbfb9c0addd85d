/**
 * Curvature-vector products: the pieces of Pearlmutter's R-operator that are not the executor's
 * loop — the second derivatives of the activations from their outputs ({@link dev.checkprop.nn.ActivationCurvature}),
 * the loss's Hessian applied to R{a<sup>L</sup>} ({@link dev.checkprop.nn.LossCurvature}), the
 * memory a state costs in this mode ({@link dev.checkprop.nn.StateModel}), directions as files
 * ({@link dev.checkprop.hvp.DirectionFile}) and vector arithmetic on them ({@link dev.checkprop.hvp.Directions}).
 * The products themselves are {@link dev.checkprop.exec.Executor#hessianVector}, which runs them
 * under any checkpoint plan.
 */
package dev.checkprop.hvp;
