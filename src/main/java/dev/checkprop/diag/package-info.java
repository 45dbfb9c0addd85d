/**
 * Gradient diagnostics: {@link dev.checkprop.diag.Diagnosis} finds dead units, dead layers, zero
 * columns of W<sup>l+1</sup> and per-layer gradient norms for a batch, through the executor's
 * backward observer (so it works under any plan).
 */
package dev.checkprop.diag;
